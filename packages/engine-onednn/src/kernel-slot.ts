// Puts a oneDNN kernel in place of the wasm backend's kernel of the same name, keeping that one as
// the fallback for what oneDNN does not take, and puts it back on request. Each fallback is
// counted by reason, so tests and logs can show which shapes stayed on wasm.
import { getKernel, registerKernel, unregisterKernel, type KernelConfig, type KernelFunc, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export interface KernelArgs<I, A> {
  inputs: I;
  backend: BackendWasm;
  attrs: A;
}
export type OneDnnKernel<I, A> = (args: KernelArgs<I, A>, fallback: (reason: string) => TensorInfo) => TensorInfo;

const replaced = new Map<string, { ours: KernelConfig; previous?: KernelConfig }>();
const fallbacks = new Map<string, number>();

/** Replaces the wasm kernel `kernelName` by `kernel` (idempotent). */
export function installKernel<I, A>(kernelName: string, kernel: OneDnnKernel<I, A>): void {
  const current = getKernel(kernelName, 'wasm');
  if (current != null && current === replaced.get(kernelName)?.ours) return;
  const previous = current;
  const kernelFunc = ((args: KernelArgs<I, A>) =>
    kernel(args, (reason) => {
      const key = `${kernelName}: ${reason}`;
      fallbacks.set(key, (fallbacks.get(key) ?? 0) + 1);
      if (previous == null) throw new Error(`@qtdog/engine-onednn: ${kernelName} (${reason}) has no wasm kernel to fall back to.`);
      return previous.kernelFunc(args as never) as TensorInfo;
    })) as unknown as KernelFunc;
  // The engine sets up only registered kernels: set up the replaced one for the fallback.
  const ours: KernelConfig = { kernelName, backendName: 'wasm', kernelFunc, setupFunc: previous?.setupFunc };
  if (current != null) unregisterKernel(kernelName, 'wasm');
  registerKernel(ours);
  replaced.set(kernelName, { ours, previous });
}

/** Puts every replaced wasm kernel back. */
export function restoreKernels(): void {
  for (const [kernelName, { ours, previous }] of replaced) {
    if (getKernel(kernelName, 'wasm') === ours) {
      unregisterKernel(kernelName, 'wasm');
      if (previous != null) registerKernel(previous);
    }
  }
  replaced.clear();
}

/** How many calls went to the wasm kernel instead, by "Kernel: reason". */
export function fallbackCounts(): Map<string, number> {
  return new Map(fallbacks);
}
