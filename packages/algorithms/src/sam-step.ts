import * as tf from '@tensorflow/tfjs-core';
import { disposeAll, type Param } from '@qtdog/core';
import { objectiveGradients, type Objective, type ObjectiveResult } from './objective.js';

/**
 * Euclidean norm of all gradients taken together, as one vector. Summed in float64 in JS: a float32
 * reduction over ~10^5 elements drifts by ~1e-5 relative, which SAM's e = rho g/||g|| would carry
 * into the step (and data-parallel SAM, which sums in float64, would then disagree with one thread).
 */
export function globalNorm(grads: tf.Tensor[]): number {
  let sum = 0;
  for (const g of grads) {
    const values = g.dataSync() as Float32Array;
    for (let i = 0; i < values.length; i++) sum += values[i]! * values[i]!;
  }
  return Math.sqrt(sum);
}

/**
 * One step of sharpness-aware minimization (Foret et al., arXiv 2010.01412) around any objective:
 * g = grad L(w); e = rho * g / ||g|| over all of `params`; the returned gradient is grad L(w + e),
 * taken with the parameters moved to w + e and then restored exactly (from copies, not by
 * subtracting e, so no rounding drift accumulates). `losses` are those at w, plus `perturbedLoss`.
 * The objective is evaluated twice, so it must be a pure function of the parameters.
 */
export function samStep(objective: Objective, params: Param[], rho: number): ObjectiveResult {
  const first = objectiveGradients(objective, params);
  const scale = rho / (globalNorm(Object.values(first.grads)) + 1e-12);
  const saved = new Map<Param, tf.Tensor>();
  for (const p of params) {
    const g = first.grads[p.name];
    if (!g) continue;
    saved.set(p, tf.clone(p.variable));
    tf.tidy(() => p.variable.assign(tf.add(p.variable, tf.mul(g, scale))));
  }
  disposeAll(first.grads);
  let second: ObjectiveResult;
  try {
    second = objectiveGradients(() => objective(() => {}), params);
  } finally {
    for (const [p, w] of saved) {
      p.variable.assign(w);
      w.dispose();
    }
  }
  return { losses: { ...first.losses, perturbedLoss: second.losses.loss! }, grads: second.grads };
}
