import * as tf from '@tensorflow/tfjs-core';
import { disposeAll, type Param } from '@qtdog/core';
import { objectiveGradients, type Objective, type ObjectiveResult } from './objective.js';

/** Euclidean norm of all gradients taken together, as one vector. */
export function globalNorm(grads: tf.Tensor[]): number {
  if (grads.length === 0) return 0;
  const norm = tf.tidy(() => tf.sqrt(tf.addN(grads.map((g) => tf.sum(tf.square(g))))));
  const value = norm.dataSync()[0]!;
  norm.dispose();
  return value;
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
