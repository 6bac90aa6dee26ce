import * as tf from '@tensorflow/tfjs-core';
import { gradientsOf, type Param } from '@qtdog/core';

/** Records a named scalar term of an objective (nll, penalty) for the step's loss report. */
export type ReportTerm = (name: string, value: tf.Scalar) => void;

/**
 * A training objective: the scalar loss of one step at the current parameter values. It must be a
 * pure function of the parameters (same weights, same value): SAM evaluates it twice per step, so
 * anything random (Mixup's lambda) is drawn before the objective is built.
 */
export type Objective = (report: ReportTerm) => tf.Scalar;

/** Loss terms (`loss` = the objective's value, plus every reported term) and gradients by parameter name. */
export interface ObjectiveResult {
  losses: Record<string, number>;
  grads: Record<string, tf.Tensor>;
}

/** Reads scalars as numbers and disposes them. */
export function readScalars(scalars: Record<string, tf.Scalar>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, s] of Object.entries(scalars)) {
    out[name] = s.dataSync()[0]!;
    s.dispose();
  }
  return out;
}

/** Value, reported terms and gradients of an objective with respect to `params`. The caller disposes the gradients. */
export function objectiveGradients(objective: Objective, params: Param[]): ObjectiveResult {
  const kept: Record<string, tf.Scalar> = {};
  const report: ReportTerm = (name, value) => {
    kept[name]?.dispose();
    kept[name] = tf.keep(tf.clone(value));
  };
  try {
    const { value, grads } = gradientsOf(() => objective(report), params);
    return { losses: readScalars({ ...kept, loss: value }), grads };
  } catch (e) {
    for (const t of Object.values(kept)) t.dispose();
    throw e;
  }
}

/** Mean of scalars (per-domain losses, per-pair penalties). */
export function meanOf(scalars: tf.Scalar[]): tf.Scalar {
  return tf.tidy(() => tf.div(tf.addN(scalars), scalars.length) as tf.Scalar);
}
