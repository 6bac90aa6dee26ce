import * as tf from '@tensorflow/tfjs-core';
import { Rng, seedHash, type ActivationSite, type Network, type ParamSet, type WeightLayer } from '@qtdog/core';

/** A layer's weight as the forward pass sees it: through the network's weight transform, if any. */
export function layerWeight(net: Network, layer: WeightLayer, training: boolean): tf.Tensor {
  const w = net.params.get(layer.weight).variable;
  return net.weightTransform ? net.weightTransform(layer, w, training) : w;
}

/** The activations at a site, through the network's activation transform when one is installed. */
export function siteActivation(net: Network, site: ActivationSite, x: tf.Tensor, training: boolean): tf.Tensor {
  return net.activationTransform ? net.activationTransform(site, x, training) : x;
}

/**
 * The linear classifier every qtdog network ends with: its weight is the last entry of `layers`
 * (named `classifier`, left in float by default quantizers), its bias `classifier.bias`.
 */
export function linearClassifier(net: Network, features: tf.Tensor2D, training: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const w = layerWeight(net, net.layers[net.layers.length - 1]!, training) as tf.Tensor2D;
    return tf.add(tf.matMul(features, w), net.params.get('classifier.bias').variable) as tf.Tensor2D;
  });
}

/** Inverted dropout with a mask drawn from a seeded generator (the same on every backend). */
export function featureDropout(x: tf.Tensor2D, rate: number, rng: Rng): tf.Tensor2D {
  const keep = 1 - rate;
  const mask = new Float32Array(x.size);
  for (let i = 0; i < mask.length; i++) mask[i] = rng.next() < keep ? 1 / keep : 0;
  return tf.mul(x, tf.tensor2d(mask, x.shape)) as tf.Tensor2D;
}

/**
 * Dropout masks drawn from a seed and a draw counter that lives in the ParamSet as a non-trainable
 * parameter (`dropout.draws`): checkpoints keep it, so a resumed run continues the same sequence of
 * masks, and data-parallel workers receive it with the weights.
 */
export class DropoutStream {
  private readonly draws: tf.Variable;

  constructor(
    params: ParamSet,
    private readonly seed: number,
    variableName: string,
  ) {
    this.draws = params.add({ name: 'dropout.draws', layer: 'dropout', role: 'other', trainable: false, variable: tf.variable(tf.scalar(0), false, variableName) }).variable;
  }

  apply(x: tf.Tensor2D, rate: number): tf.Tensor2D {
    const n = this.draws.dataSync()[0]!;
    const out = featureDropout(x, rate, new Rng(seedHash(this.seed, 'dropout', n)));
    this.draws.assign(tf.scalar(n + 1));
    return out;
  }
}
