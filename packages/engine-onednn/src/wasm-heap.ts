// Where a wasm-backend tensor lives: the backend's heap and the byte offset of its data. The heap
// is fetched anew on every call (memory growth replaces the buffer), after all outputs are allocated.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { TensorInfo } from '@tensorflow/tfjs-core';

export function heapOf(backend: BackendWasm): Uint8Array {
  // Emscripten exposes HEAPU8 on the module; its typings leave it out.
  return (backend.wasm as unknown as { HEAPU8: Uint8Array }).HEAPU8;
}

export function offsetOf(backend: BackendWasm, info: TensorInfo): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset;
}

export function allocFloat32(backend: BackendWasm, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}
