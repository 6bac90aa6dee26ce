// GroupNorm's passes over the activation on our wasm SIMD module (packages/engine/assembly/
// group-norm.ts), used by the wasm backend's fused GroupNorm kernels when C % 4 == 0.
//
// The module imports the backend's own WebAssembly.Memory, so its functions take tensors' heap
// offsets and work in place: one instance per backend memory (each data-parallel worker has its
// own). Where the module cannot be instantiated (no wasm SIMD, or a backend build whose memory is
// not reachable), the plain JavaScript passes serve.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { GROUP_NORM_WASM } from './generated/group-norm-wasm';

// The few WebAssembly globals used here (the project's TypeScript libs declare no WebAssembly).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
};

export interface GroupNormSimd {
  /** sum[b][k] = sum of a, sq[b][k] = sum of a*a (mode 0) or a*x (mode 1); f64 [N][C] outputs. */
  channelSums(a: number, x: number, sum: number, sq: number, N: number, HW: number, C: number, mode: number): void;
  /** y = a*p + shift (mode 0) or a*p + x*q + shift (mode 1), p/q/shift f32 [N][C]. */
  affine(a: number, x: number, y: number, p: number, q: number, shift: number, N: number, HW: number, C: number, mode: number): void;
}

interface WasmInternals {
  wasm: { asm?: { memory?: object } };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

// QTDOG_WASM_GROUP_NORM=js selects the plain JavaScript passes (benchmarks compare the two; the
// variable reaches data-parallel workers too).
let useSimd = !(typeof process !== 'undefined' && process.env?.QTDOG_WASM_GROUP_NORM === 'js');
let compiled: object | null | undefined;
const instances = new WeakMap<object, GroupNormSimd | null>();

/** Selects the GroupNorm implementation on the wasm backend for this thread (benchmarks, tests). */
export function setGroupNormKernel(k: 'simd' | 'js'): void {
  useSimd = k === 'simd';
}

/** The module bound to this backend's memory; null where it cannot run (the JS passes serve). */
export function groupNormSimd(backend: BackendWasm): GroupNormSimd | null {
  if (!useSimd) return null;
  const memory = (backend as unknown as WasmInternals).wasm?.asm?.memory;
  if (!memory) return null;
  let inst = instances.get(memory);
  if (inst !== undefined) return inst;
  try {
    if (compiled === undefined) compiled = new WebAssembly.Module(Uint8Array.from(atob(GROUP_NORM_WASM), (c) => c.charCodeAt(0)));
    inst = compiled ? (new WebAssembly.Instance(compiled, { env: { memory } }).exports as GroupNormSimd) : null;
  } catch {
    compiled ??= null;
    inst = null;
  }
  instances.set(memory, inst);
  return inst;
}

/** A tensor's byte offset in the wasm backend's memory. */
export function heapOffset(backend: BackendWasm, info: TensorInfo): number {
  const d = (backend as unknown as WasmInternals).dataIdMap.get(info.dataId);
  if (!d) throw new Error('@qtdog/engine: tensor data not found on the wasm backend');
  return d.memoryOffset;
}
