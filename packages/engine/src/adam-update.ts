// One Adam step for one parameter, fused into a single kernel on 'wasm' and 'cpu'.
//
// Written with tf ops, a step is about twelve kernels per parameter (moments, bias corrections,
// square root, division, update): 744 kernel calls per ResNet-18 step, each a pass over the
// parameter plus its engine bookkeeping. The fused kernel reads the parameter, its gradient and
// both moments once and writes the three new tensors once: on wasm in our SIMD module
// (assembly/adam.ts; scalar JavaScript is slower than the ops on ResNet-18's 11 M parameters,
// its square roots and divisions one at a time), on cpu in JavaScript. Other backends (tfjs-node)
// run the ops.
import * as tf from '@tensorflow/tfjs-core';
import { type KernelBackend, type KernelFunc, type NamedAttrMap, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { BackendMemoryModule, heapOffset } from './backend-memory-module';
import { ADAM_WASM } from './generated/adam-wasm';
import { memoryFor, registerOnWasmAndCpu } from './kernel-memory';

interface AdamSimd {
  adamStep(p: number, m: number, v: number, g: number, po: number, mo: number, vo: number, n: number,
    b1: number, b2: number, stepSize: number, bc2: number, eps: number, wd: number): void;
}
const simd = new BackendMemoryModule<AdamSimd>(ADAM_WASM);

/** Whether the wasm backend runs the SIMD step here (tests). */
export function adamSimdAvailable(backend: BackendWasm): boolean {
  return simd.on(backend) != null;
}

export const ADAM_UPDATE = 'QtdogAdamUpdate';

/** PyTorch Adam's hyperparameters and this parameter's step count (1 on its first update). */
export interface AdamStep {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** L2 penalty added to the gradient (PyTorch Adam's weight_decay). */
  weightDecay: number;
  step: number;
}

function adamKernel(backendName: 'wasm' | 'cpu'): KernelFunc {
  return ({ inputs, backend, attrs }) => {
    const { param, m, v, grad } = inputs as Record<string, TensorInfo>;
    const { lr, beta1, beta2, eps, weightDecay, step } = attrs as unknown as AdamStep;
    const mem = memoryFor(backendName, backend as KernelBackend);
    const p1 = mem.alloc(param.shape);
    const m1 = mem.alloc(param.shape);
    const v1 = mem.alloc(param.shape);
    const stepSize = lr / (1 - beta1 ** step);
    const bc2 = 1 - beta2 ** step;
    const k = backendName === 'wasm' ? simd.on(backend as BackendWasm) : null;
    if (k) {
      const b = backend as BackendWasm;
      const at = (t: TensorInfo) => heapOffset(b, t);
      k.adamStep(at(param), at(m), at(v), at(grad), at(p1), at(m1), at(v1), p1.shape.reduce((a, d) => a * d, 1), beta1, beta2, stepSize, bc2, eps, weightDecay);
      return [p1, m1, v1];
    }
    // Views after the last allocation (the wasm heap may have grown).
    const [pv, mv, vv, gv] = [mem.read(param), mem.read(m), mem.read(v), mem.read(grad)];
    const [po, mo, vo] = [mem.write(p1), mem.write(m1), mem.write(v1)];
    for (let i = 0; i < pv.length; i++) {
      const g = weightDecay > 0 ? gv[i]! + weightDecay * pv[i]! : gv[i]!;
      // Rounded to float32 where the ops path stores them, so both paths compute the same update.
      const mi = Math.fround(beta1 * mv[i]! + (1 - beta1) * g);
      const vi = Math.fround(beta2 * vv[i]! + (1 - beta2) * g * g);
      mo[i] = mi;
      vo[i] = vi;
      po[i] = pv[i]! - (mi / (Math.sqrt(vi / bc2) + eps)) * stepSize;
    }
    return [mem.finish(p1, po), mem.finish(m1, mo), mem.finish(v1, vo)];
  };
}

/** Registers the fused Adam kernel for 'wasm' and 'cpu' (idempotent). */
export function registerAdamKernels(): void {
  registerOnWasmAndCpu(ADAM_UPDATE, adamKernel);
}

/**
 * The new parameter, first moment and second moment after one Adam step (PyTorch's formulas:
 * p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)). Not differentiable. The caller
 * owns the three results.
 */
export function adamUpdate(param: tf.Tensor, m: tf.Tensor, v: tf.Tensor, grad: tf.Tensor, s: AdamStep): [tf.Tensor, tf.Tensor, tf.Tensor] {
  const backend = tf.getBackend();
  if ((backend === 'wasm' || backend === 'cpu') && param.dtype === 'float32') {
    registerAdamKernels();
    return tf.engine().runKernel(ADAM_UPDATE, { param, m, v, grad }, s as unknown as NamedAttrMap) as [tf.Tensor, tf.Tensor, tf.Tensor];
  }
  return adamUpdateOps(param, m, v, grad, s);
}

/** The same step with tf ops (every backend; tests compare the two). */
export function adamUpdateOps(param: tf.Tensor, m: tf.Tensor, v: tf.Tensor, grad: tf.Tensor, s: AdamStep): [tf.Tensor, tf.Tensor, tf.Tensor] {
  return tf.tidy(() => {
    const g = s.weightDecay > 0 ? tf.add(grad, tf.mul(param, s.weightDecay)) : grad;
    const m1 = tf.add(tf.mul(m, s.beta1), tf.mul(g, 1 - s.beta1));
    const v1 = tf.add(tf.mul(v, s.beta2), tf.mul(tf.square(g), 1 - s.beta2));
    const denom = tf.add(tf.sqrt(tf.div(v1, 1 - s.beta2 ** s.step)), s.eps);
    const p1 = tf.sub(param, tf.mul(tf.div(m1, denom), s.lr / (1 - s.beta1 ** s.step)));
    return [p1, m1, v1] as [tf.Tensor, tf.Tensor, tf.Tensor];
  });
}
