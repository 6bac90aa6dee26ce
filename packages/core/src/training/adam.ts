import * as tf from '@tensorflow/tfjs-core';
import { adamUpdate } from '@qtdog/engine';
import type { Param } from '../api/network.js';

export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty added to the gradient (PyTorch Adam's weight_decay). */
  weightDecay?: number;
}

interface Slot {
  m: tf.Variable;
  v: tf.Variable;
  t: number;
}

/**
 * Adam as PyTorch computes it, with state keyed by parameter NAME and a step count per parameter.
 * Parameters that appear later (a quantizer's step sizes) get fresh state while the others keep
 * theirs: the switch to quantized training never resets the weights' moments (SPEC.md section 2).
 */
export class Adam {
  readonly lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private slots = new Map<string, Slot>();

  constructor(opts: AdamOptions) {
    this.lr = opts.lr;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
  }

  /** Applies one update. `grads` maps parameter names to gradients (not disposed here). */
  apply(params: Param[], grads: Record<string, tf.Tensor>): void {
    for (const p of params) {
      const g = grads[p.name];
      if (!g) continue;
      let slot = this.slots.get(p.name);
      if (!slot) {
        // In tidy: a variable keeps its own reference to the data, the zeros tensor is released.
        slot = tf.tidy(() => ({
          m: tf.variable(tf.zerosLike(p.variable), false),
          v: tf.variable(tf.zerosLike(p.variable), false),
          t: 0,
        }));
        this.slots.set(p.name, slot);
      }
      slot.t += 1;
      const { m, v, t } = slot;
      // One fused kernel per parameter on wasm and cpu (the engine's adamUpdate), tf ops elsewhere.
      const [p1, m1, v1] = adamUpdate(p.variable, m, v, g, {
        lr: this.lr,
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
        step: t,
      });
      m.assign(m1);
      v.assign(v1);
      p.variable.assign(p1);
      tf.dispose([p1, m1, v1]);
    }
  }

  /** Names of the parameters the optimizer holds state for (for tests and diagnostics). */
  stateNames(): string[] {
    return [...this.slots.keys()];
  }

  stepCount(name: string): number {
    return this.slots.get(name)?.t ?? 0;
  }

  getState(prefix = 'adam'): { tensors: Record<string, tf.Tensor>; scalars: Record<string, number> } {
    const tensors: Record<string, tf.Tensor> = {};
    const scalars: Record<string, number> = {};
    for (const [name, s] of this.slots) {
      tensors[`${prefix}/${name}/m`] = s.m;
      tensors[`${prefix}/${name}/v`] = s.v;
      scalars[`${prefix}/${name}/t`] = s.t;
    }
    return { tensors, scalars };
  }

  setState(state: { tensors: Record<string, tf.Tensor>; scalars: Record<string, number | number[]> }, prefix = 'adam'): void {
    this.reset();
    for (const [key, t] of Object.entries(state.scalars)) {
      const m = key.match(new RegExp(`^${prefix}/(.+)/t$`));
      if (!m) continue;
      const name = m[1]!;
      this.slots.set(
        name,
        tf.tidy(() => ({
          m: tf.variable(state.tensors[`${prefix}/${name}/m`]!.clone(), false),
          v: tf.variable(state.tensors[`${prefix}/${name}/v`]!.clone(), false),
          t: t as number,
        })),
      );
    }
  }

  /** Forgets all state (IRM and VREx reset Adam at their anneal step). */
  reset(): void {
    for (const s of this.slots.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.slots.clear();
  }

  dispose(): void {
    this.reset();
  }
}
