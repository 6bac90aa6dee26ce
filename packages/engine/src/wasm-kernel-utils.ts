// Low-level helpers for writing wasm-backend kernels out of other wasm kernels.
//
// The training kernels below never wrap their inputs as `tf.Tensor`s: they call
// the wasm backend's own kernel functions on `TensorInfo`s and free every
// intermediate with `backend.disposeData`. That keeps reference counts exact
// (nothing is tracked by the engine except the kernel's final output) and costs
// no engine bookkeeping per intermediate.
//
// Small data-movement steps (layout changes that the wasm Transpose kernel does
// badly, phase interleaving, tiny filter reshuffles) are plain JavaScript loops
// over the wasm heap; the heavy arithmetic runs in XNNPACK or in our SIMD modules.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Calls a kernel that tfjs-backend-wasm registered, without going through the engine. */
export function runWasmKernel(
  backend: BackendWasm,
  kernelName: string,
  inputs: Record<string, TensorInfo>,
  attrs: NamedAttrMap = {},
): TensorInfo {
  const kernel = getKernel(kernelName, 'wasm');
  if (kernel == null) {
    throw new Error(`@qtdog/engine: the wasm backend has no '${kernelName}' kernel registered.`);
  }
  return kernel.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
}

/**
 * Registers `config` in place of the kernel of the same name and backend. Returns the kernel it
 * replaced, to keep as a fallback; undefined when there was none or `config` is already the
 * registered one (so calling it again is harmless).
 */
export function replaceKernel(config: KernelConfig): KernelConfig | undefined {
  const current = getKernel(config.kernelName, config.backendName);
  if (current?.kernelFunc === config.kernelFunc) return undefined;
  if (current != null) unregisterKernel(config.kernelName, config.backendName);
  registerKernel(config);
  return current;
}

/** Frees an intermediate produced by a kernel function (refCount 1, never seen by the engine). */
export function free(backend: BackendWasm, info: TensorInfo): void {
  backend.disposeData(info.dataId);
}

/** A float32 view of a tensor's data on the wasm heap. Re-fetch after any allocation: the heap may grow. */
export function heap(backend: BackendWasm, info: TensorInfo): Float32Array {
  return backend.typedArrayFromHeap(info) as Float32Array;
}

/** Allocates an uninitialised float32 output on the wasm heap. */
export function alloc(backend: BackendWasm, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

/**
 * [A, M, C] -> [C, M, A] (moves the outer and inner axes past each other).
 *
 * This is the layout change from NHWC activations to "channels as batch, batch as
 * channels" that the filter gradient needs, and the 2D transpose [K, C] -> [C, K].
 * The wasm Transpose kernel walks it with large strides and is 2-3x slower
 * than this loop (64x28x28x64: 25 ms against 7 ms), which reads 8 source rows
 * at a time and writes 8 consecutive floats.
 */
export function swapOuterInner(src: Float32Array, A: number, M: number, C: number, dst: Float32Array): void {
  const srcA = M * C; // stride of a in src
  const dstC = M * A; // stride of c in dst
  let a0 = 0;
  for (; a0 + 8 <= A; a0 += 8) {
    for (let m = 0; m < M; m++) {
      const s0 = a0 * srcA + m * C;
      const s1 = s0 + srcA;
      const s2 = s1 + srcA;
      const s3 = s2 + srcA;
      const s4 = s3 + srcA;
      const s5 = s4 + srcA;
      const s6 = s5 + srcA;
      const s7 = s6 + srcA;
      let d = m * A + a0;
      for (let c = 0; c < C; c++) {
        dst[d] = src[s0 + c];
        dst[d + 1] = src[s1 + c];
        dst[d + 2] = src[s2 + c];
        dst[d + 3] = src[s3 + c];
        dst[d + 4] = src[s4 + c];
        dst[d + 5] = src[s5 + c];
        dst[d + 6] = src[s6 + c];
        dst[d + 7] = src[s7 + c];
        d += dstC;
      }
    }
  }
  for (; a0 < A; a0++) {
    for (let m = 0; m < M; m++) {
      const s0 = a0 * srcA + m * C;
      let d = m * A + a0;
      for (let c = 0; c < C; c++) {
        dst[d] = src[s0 + c];
        d += dstC;
      }
    }
  }
}
