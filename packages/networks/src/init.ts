import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@qtdog/core';

/**
 * PyTorch's default initialisation for conv and linear layers (kaiming_uniform with a = sqrt(5)):
 * weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)). Drawn from our seeded Rng in JavaScript
 * so the initial weights are the same on every backend.
 */
export function uniformFanIn(rng: Rng, shape: number[], fanIn: number): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  const n = shape.reduce((a, b) => a * b, 1);
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = rng.uniform(-bound, bound);
  return tf.tensor(v, shape);
}

let modelCounter = 0;
/** A process-unique prefix for tf variable names (tf.js requires globally unique names). */
export function uniqueModelId(name: string): string {
  modelCounter += 1;
  return `${name}#${modelCounter}`;
}
