// GroupNorm's passes over the activation on our wasm SIMD module (packages/engine/assembly/
// group-norm.ts), used by the wasm backend's fused GroupNorm kernels when C % 4 == 0. The module
// works in the backend's own memory (backend-memory-module.ts); where it cannot be instantiated
// the plain JavaScript passes serve.
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendMemoryModule } from './backend-memory-module';
import { GROUP_NORM_WASM } from './generated/group-norm-wasm';

export { heapOffset } from './backend-memory-module';

export interface GroupNormSimd {
  /** sum[b][k] = sum of a, sq[b][k] = sum of a*a (mode 0) or a*x (mode 1); f64 [N][C] outputs. */
  channelSums(a: number, x: number, sum: number, sq: number, N: number, HW: number, C: number, mode: number): void;
  /** y = a*p + shift (mode 0) or a*p + x*q + shift (mode 1), p/q/shift f32 [N][C]. */
  affine(a: number, x: number, y: number, p: number, q: number, shift: number, N: number, HW: number, C: number, mode: number): void;
}

// QTDOG_WASM_GROUP_NORM=js selects the plain JavaScript passes (benchmarks compare the two; the
// variable reaches data-parallel workers too).
let useSimd = !(typeof process !== 'undefined' && process.env?.QTDOG_WASM_GROUP_NORM === 'js');
const module = new BackendMemoryModule<GroupNormSimd>(GROUP_NORM_WASM);

/** Selects the GroupNorm implementation on the wasm backend for this thread (benchmarks, tests). */
export function setGroupNormKernel(k: 'simd' | 'js'): void {
  useSimd = k === 'simd';
}

/** The module bound to this backend's memory; null where it cannot run (the JS passes serve). */
export function groupNormSimd(backend: BackendWasm): GroupNormSimd | null {
  return useSimd ? module.on(backend) : null;
}
