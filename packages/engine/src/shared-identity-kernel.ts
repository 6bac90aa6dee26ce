// A wasm Identity kernel that shares its input's buffer instead of copying it.
//
// tf.clone runs Identity, and while a gradient tape records, the engine clones every tensor a
// kernel saves for its backward pass. tfjs-backend-wasm's Identity copies the data each time:
// 772 copies per ResNet-18 training step (80 of them whole activations), 1.8% of the step. Tensor
// data is never written after its kernel returns (variables get new buffers on assign), so the
// clone can share the buffer and count a reference, as the cpu backend's Identity and the wasm
// Reshape do. Strings go to the backend's own kernel.
import '@tensorflow/tfjs-backend-wasm'; // its kernels must be registered before ours replace one
import { Identity, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { replaceKernel } from './wasm-kernel-utils';

let backendIdentity: KernelConfig | undefined;

function identityWasm(args: { inputs: { x: TensorInfo }; backend: BackendWasm }): TensorInfo {
  const { x } = args.inputs;
  if (x.dtype === 'string') {
    if (backendIdentity == null) throw new Error('@qtdog/engine: no fallback Identity kernel');
    return backendIdentity.kernelFunc(args as never) as TensorInfo;
  }
  args.backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

const config: KernelConfig = {
  kernelName: Identity,
  backendName: 'wasm',
  kernelFunc: identityWasm as unknown as KernelFunc,
  setupFunc: (backend) => backendIdentity?.setupFunc?.(backend),
};

/** Replaces the wasm Identity kernel with one that shares the input's buffer. Idempotent. */
export function registerSharedIdentityKernel(): void {
  backendIdentity = replaceKernel(config) ?? backendIdentity;
}
