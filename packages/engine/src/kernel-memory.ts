// Float32 tensor memory for kernels written once for both the 'wasm' and the 'cpu' backend:
// read an input's values, allocate outputs and write them, without copies where the backend
// allows it (on wasm the arrays are views of the heap); and their registration on both.
import { getKernel, registerKernel, type KernelBackend, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';

/** Registers `kernelName` on 'wasm' and on 'cpu', each with the kernel `make` builds for it, where none is registered yet (idempotent). */
export function registerOnWasmAndCpu(kernelName: string, make: (backendName: 'wasm' | 'cpu') => KernelFunc): void {
  for (const backendName of ['wasm', 'cpu'] as const) {
    if (getKernel(kernelName, backendName) == null) registerKernel({ kernelName, backendName, kernelFunc: make(backendName) });
  }
}

/** Reads and creates float32 tensor data on one backend without copies where the backend allows it. */
export interface Memory {
  read(info: TensorInfo): Float32Array;
  /** Allocates outputs; the arrays of all of them are valid only after the last `alloc` (wasm heap may grow). */
  alloc(shape: number[]): TensorInfo;
  write(info: TensorInfo): Float32Array;
  finish(info: TensorInfo, values: Float32Array): TensorInfo;
}

interface WasmLike extends KernelBackend {
  makeOutput(shape: number[], dtype: 'float32'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}
interface CpuLike extends KernelBackend {
  data: { get(dataId: object): { values: Float32Array } };
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

export function memoryFor(backendName: 'wasm' | 'cpu', backend: KernelBackend): Memory {
  if (backendName === 'wasm') {
    const b = backend as WasmLike;
    return {
      read: (info) => b.typedArrayFromHeap(info),
      alloc: (shape) => b.makeOutput(shape, 'float32'),
      write: (info) => b.typedArrayFromHeap(info),
      finish: (info) => info,
    };
  }
  const b = backend as CpuLike;
  const pending = new Map<TensorInfo, Float32Array>();
  return {
    read: (info) => b.data.get(info.dataId).values,
    alloc: (shape) => {
      const info = { dataId: {}, shape, dtype: 'float32' } as TensorInfo;
      pending.set(info, new Float32Array(shape.reduce((a, d) => a * d, 1)));
      return info;
    },
    write: (info) => pending.get(info)!,
    finish: (info, values) => b.makeTensorInfo(info.shape, 'float32', values),
  };
}

