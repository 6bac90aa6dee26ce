// One call into the addon that writes one freshly allocated output: where oneDNN reports the
// case unimplemented, the output is freed and the wasm kernel answers instead.
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { allocFloat32 } from './wasm-heap';

export function intoNewOutput(
  backend: BackendWasm,
  shape: number[],
  call: (out: TensorInfo) => void,
  fallback: (reason: string) => TensorInfo,
): TensorInfo {
  const out = allocFloat32(backend, shape);
  try {
    call(out); // after the allocation: the heap the call reads is the grown one
  } catch (err) {
    backend.disposeData(out.dataId);
    if (String(err).includes('oneDNN unimplemented')) return fallback('unimplemented by oneDNN');
    throw err;
  }
  return out;
}
