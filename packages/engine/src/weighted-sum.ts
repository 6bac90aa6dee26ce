// wa * a + wb * b as one kernel on 'wasm' and 'cpu': data-parallel training sums every parameter's
// gradients from its threads this way each step. With tf ops that is three passes and two
// intermediate tensors per parameter; the kernel reads both inputs once and writes the output once,
// on wasm in our SIMD module (assembly/weighted-sum.ts), on cpu in JavaScript. Other backends
// (tfjs-node) run the ops.
import * as tf from '@tensorflow/tfjs-core';
import { type KernelBackend, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendMemoryModule, heapOffset } from './backend-memory-module';
import { WEIGHTED_SUM_WASM } from './generated/weighted-sum-wasm';
import { memoryFor, registerOnWasmAndCpu } from './kernel-memory';

interface WeightedSumSimd {
  weightedSum(a: number, b: number, out: number, n: number, wa: number, wb: number): void;
}
const simd = new BackendMemoryModule<WeightedSumSimd>(WEIGHTED_SUM_WASM);

/** Whether the wasm backend runs the SIMD sum here (tests). */
export function weightedSumSimdAvailable(backend: BackendWasm): boolean {
  return simd.on(backend) != null;
}

export const WEIGHTED_SUM = 'QtdogWeightedSum';

function weightedSumKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { a, b } = inputs as Record<string, TensorInfo>;
    const { wa, wb } = attrs as unknown as { wa: number; wb: number };
    const mem = memoryFor(backendName, backend as KernelBackend);
    const out = mem.alloc(a.shape);
    const n = a.shape.reduce((x, d) => x * d, 1);
    const k = backendName === 'wasm' ? simd.on(backend as BackendWasm) : null;
    if (k) {
      const at = (t: TensorInfo) => heapOffset(backend as BackendWasm, t);
      k.weightedSum(at(a), at(b), at(out), n, wa, wb);
      return out;
    }
    // Views after the allocation (the wasm heap may have grown).
    const [av, bv, ov] = [mem.read(a), mem.read(b), mem.write(out)];
    // Each product rounded to float32 as the SIMD path and the ops round them.
    const fa = Math.fround(wa);
    const fb = Math.fround(wb);
    for (let i = 0; i < n; i++) ov[i] = Math.fround(av[i]! * fa) + Math.fround(bv[i]! * fb);
    return mem.finish(out, ov);
  };
}

/** Registers the kernel for 'wasm' and 'cpu' (idempotent). */
export function registerWeightedSumKernels(): void {
  registerOnWasmAndCpu(WEIGHTED_SUM, weightedSumKernel);
}

/** wa * a + wb * b, element by element, as a new float32 tensor; a and b have the same shape. Not differentiable. */
export function weightedSum(a: tf.Tensor, b: tf.Tensor, wa: number, wb: number): tf.Tensor {
  if (!tf.util.arraysEqual(a.shape, b.shape)) {
    throw new Error(`weightedSum: shapes [${a.shape.join(', ')}] and [${b.shape.join(', ')}] differ`);
  }
  const backend = tf.getBackend();
  if ((backend === 'wasm' || backend === 'cpu') && a.dtype === 'float32' && b.dtype === 'float32') {
    registerWeightedSumKernels();
    return tf.engine().runKernel(WEIGHTED_SUM, { a, b }, { wa, wb } as unknown as NamedAttrMap) as tf.Tensor;
  }
  return tf.tidy(() => tf.add(tf.mul(a, wa), tf.mul(b, wb)));
}
