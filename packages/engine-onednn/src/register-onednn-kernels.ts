// Turns oneDNN on (or off) for TensorFlow.js's wasm backend in the calling thread.
import '@tensorflow/tfjs-backend-wasm'; // its kernels must be registered before ours replace them
import { availableParallelism } from 'node:os';
import { ENABLE_HINT, loadAddon } from './native-addon';
import { installConv2DKernels } from './conv2d-kernels';
import { installConv2DBackpropKernels } from './conv2d-backprop-kernels';
import { installMatMulKernels } from './matmul-kernels';
import { restoreKernels } from './kernel-slot';

export type OneDnnStatus = { enabled: true; version: string; threads: number } | { enabled: false; reason: string };

export interface OneDnnOptions {
  /** oneDNN threads for this JavaScript thread (default: all cores). */
  threads?: number;
}

/**
 * Registers the oneDNN kernels in place of the wasm backend's Conv2D, _FusedConv2D, both conv
 * gradients, BatchMatMul and _FusedMatMul (each falls back to the kernel it replaced for what
 * oneDNN does not take). Call it after the wasm training kernels are registered and before
 * `tf.setBackend('wasm')`. Never throws: a missing addon is reported with how to enable it.
 */
export function registerOneDnnKernels(opts: OneDnnOptions = {}): OneDnnStatus {
  const s = loadAddon();
  if (!s.loaded) return { enabled: false, reason: `${s.reason}; ${ENABLE_HINT}` };
  const threads = Math.max(1, Math.floor(opts.threads ?? availableParallelism()));
  s.addon.setThreads(threads);
  installConv2DKernels(s.addon);
  installConv2DBackpropKernels(s.addon);
  installMatMulKernels(s.addon);
  return { enabled: true, version: s.version, threads };
}

/** Puts the wasm kernels back in this thread (for `backend: wasm` after oneDNN, and for tests). */
export function unregisterOneDnnKernels(): void {
  restoreKernels();
}

/** Whether the addon loads here, without registering anything. */
export function oneDnnAvailable(): OneDnnStatus {
  const s = loadAddon();
  return s.loaded ? { enabled: true, version: s.version, threads: s.addon.threads() } : { enabled: false, reason: `${s.reason}; ${ENABLE_HINT}` };
}
