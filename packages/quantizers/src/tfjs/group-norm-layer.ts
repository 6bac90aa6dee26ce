// A GroupNorm layer for TensorFlow.js layers models (tfjs has none). Imports only tfjs-core and
// tfjs-layers, so a browser app can use it: `import { registerQtdogLayers } from
// '@qtdog/quantizers/tfjs-layers'`, call it once, then `tf.loadLayersModel('model.json')`.
import * as tf from '@tensorflow/tfjs-core';
import { initializers, layers } from '@tensorflow/tfjs-layers';
import type { LayerArgs } from '@tensorflow/tfjs-layers/dist/engine/topology';
import type { LayerVariable } from '@tensorflow/tfjs-layers/dist/variables';

/** A layer shape; null stands for the batch size. */
type Shape = Array<number | null>;

export interface GroupNormalizationArgs extends LayerArgs {
  groups: number;
  epsilon?: number;
}

/**
 * model.json names this class `GroupNormalization` (its static className, robust to minification).
 * GroupNorm (Wu & He, 2018, arXiv 1803.08494) over the last (channel) axis of NHWC inputs, as
 * PyTorch's nn.GroupNorm: each sample's group of C/G consecutive channels is normalised over its
 * channels x H x W with the biased variance, then scaled by gamma and shifted by beta per channel.
 */
export class GroupNormalization extends layers.Layer {
  static className = 'GroupNormalization';
  readonly groups: number;
  readonly epsilon: number;
  private gamma!: LayerVariable;
  private beta!: LayerVariable;

  constructor(args: GroupNormalizationArgs) {
    super(args);
    this.groups = args.groups;
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override build(inputShape: Shape | Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as Shape;
    const c = shape[shape.length - 1];
    if (c == null || c % this.groups !== 0) throw new Error(`GroupNormalization: ${c} channels cannot be split into ${this.groups} groups`);
    this.gamma = this.addWeight('gamma', [c], 'float32', initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor;
      const shape = x.shape;
      const c = shape[shape.length - 1]!;
      const g = this.groups;
      const spatial = shape.slice(1, -1).reduce((a, b) => a * b, 1);
      const xr = tf.reshape(x, [shape[0]!, spatial, g, c / g]);
      const { mean, variance } = tf.moments(xr, [1, 3], true);
      const xhat = tf.mul(tf.sub(xr, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
      const y = tf.add(tf.mul(xhat, tf.reshape(this.gamma.read(), [1, 1, g, c / g])), tf.reshape(this.beta.read(), [1, 1, g, c / g]));
      return tf.reshape(y, shape);
    });
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape | Shape[] {
    return inputShape;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), groups: this.groups, epsilon: this.epsilon };
  }
}

/**
 * Registers qtdog's custom layers with TensorFlow.js's serialization map. Call it once before
 * `tf.loadLayersModel` on a qtdog export (and before saving one); repeated calls are harmless.
 */
export function registerQtdogLayers(): void {
  tf.serialization.registerClass(GroupNormalization);
}
