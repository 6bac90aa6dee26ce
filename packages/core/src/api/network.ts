import type * as tf from '@tensorflow/tfjs-core';

/** What a parameter is, so quantizers and optimizers can choose what to touch. */
export type ParamRole = 'conv' | 'dense' | 'bias' | 'norm' | 'quantizer' | 'other';

export interface Param {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly role: ParamRole;
  /** Layer the parameter belongs to (e.g. "featurizer.conv1"). */
  readonly layer: string;
  trainable: boolean;
}

/**
 * The ordered, named parameters of a model. Anything that adds trainable parameters during
 * training (a quantizer's step sizes) adds them here, and every algorithm takes its gradient over
 * `trainable()` at every step: nothing can be silently left out of the optimizer.
 */
export class ParamSet {
  private readonly params = new Map<string, Param>();

  add(p: Omit<Param, 'trainable'> & { trainable?: boolean }): Param {
    if (this.params.has(p.name)) throw new Error(`parameter '${p.name}' already exists`);
    const full: Param = { ...p, trainable: p.trainable ?? true };
    this.params.set(p.name, full);
    return full;
  }

  get(name: string): Param {
    const p = this.params.get(name);
    if (!p) throw new Error(`no parameter '${name}'`);
    return p;
  }

  has(name: string): boolean {
    return this.params.has(name);
  }

  remove(name: string): void {
    const p = this.params.get(name);
    if (p) {
      p.variable.dispose();
      this.params.delete(name);
    }
  }

  all(): Param[] {
    return [...this.params.values()];
  }

  trainable(): Param[] {
    return this.all().filter((p) => p.trainable);
  }

  variables(): tf.Variable[] {
    return this.trainable().map((p) => p.variable);
  }

  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
  }
}

/** A layer whose weight a quantizer may replace. */
export interface WeightLayer {
  readonly name: string;
  readonly type: 'conv' | 'dense';
  /** Name of the weight parameter in the ParamSet. Conv weights are [kh, kw, cin, cout]. */
  readonly weight: string;
}

/**
 * Rewrites a layer's weight at forward time (fake quantization, weight noise). Must be
 * differentiable with respect to the weight and to any parameters it owns. `training` is the flag
 * the network's forward pass was called with: some transforms act only while training (weight noise
 * is a training-time regularizer; evaluation sees the clean weights).
 */
export type WeightTransform = (layer: WeightLayer, weight: tf.Tensor, training: boolean) => tf.Tensor;

/**
 * A point of the forward pass whose activations a quantizer may replace: the output of a ReLU
 * (`unsigned`: every value >= 0), as LSQ quantizes the inputs of the layers that follow.
 */
export interface ActivationSite {
  readonly name: string;
  readonly unsigned: boolean;
}

/** Rewrites the activations at a site (activation fake quantization); differentiable like WeightTransform. */
export type ActivationTransform = (site: ActivationSite, x: tf.Tensor, training: boolean) => tf.Tensor;

/** A network split into featurizer and classifier, as DomainBed does. */
export interface Network {
  readonly name: string;
  readonly params: ParamSet;
  readonly featureDim: number;
  readonly numClasses: number;
  /** Layers with weights, in forward order. */
  readonly layers: readonly WeightLayer[];
  /** Installed by a quantizer; null = full precision. */
  weightTransform: WeightTransform | null;
  /** Where activations may be quantized, in forward order; none declared = not supported. */
  readonly activationSites?: readonly ActivationSite[];
  /** Installed by a quantizer that quantizes activations; null or absent = full precision. */
  activationTransform?: ActivationTransform | null;
  featurize(x: tf.Tensor4D, training: boolean): tf.Tensor2D;
  classify(features: tf.Tensor2D, training: boolean): tf.Tensor2D;
  /** classify(featurize(x)). */
  predict(x: tf.Tensor4D, training?: boolean): tf.Tensor2D;
  dispose(): void;
}
