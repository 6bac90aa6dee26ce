import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { choice, definePlugin, NetworkToken, type Network, type Param, type WeightLayer } from '@qtdog/core';
import { LayerQuantizer } from './layer-quantizer.js';
import { IntegerQuantizerOptions } from './quantizer-options.js';
import { maxAbs, rangeToScale, steFakeQuantize } from './uniform-op.js';

export const MinMaxOptions = IntegerQuantizerOptions.extend({
  /** Symmetric range max|w| of the current weights, or its exponential moving average over steps. */
  range: z.enum(['current', 'ema']).default('current'),
  /** EMA momentum: range <- momentum * range + (1 - momentum) * max|w|, once per step. */
  momentum: z.number().min(0).lt(1).default(0.99),
});
export type MinMaxOptions = z.output<typeof MinMaxOptions>;

/**
 * Uniform min-max fake quantization (Jacob et al., 2018, arXiv 1712.05877; symmetric, weights only):
 * from `startStep`, the selected layers use `round(clamp(w / s, qn, qp)) * s` with `s = r / qp` and
 * `r` the largest |w| of the channel (or its EMA), with a straight-through gradient. Nothing is
 * learned besides the weights; the EMA ranges, when used, are non-trainable parameters of the
 * network, so checkpoints and data-parallel workers carry them.
 */
export class MinMaxQuantizer extends LayerQuantizer<MinMaxOptions> {
  readonly name = 'MinMax';
  private readonly ranges = new Map<string, Param>();
  private lastStep = -1;

  onStep(step: number, network: Network): void {
    if (step < this.options.startStep) return;
    if (!this.active) this.activate(network);
    else if (this.options.range === 'ema' && step > this.lastStep) this.updateRanges(network);
    this.lastStep = step;
  }

  /** Installs the fake-quantizing transform (and the EMA ranges, initialised from the weights). */
  activate(network: Network): void {
    const { qn, qp } = this.range;
    if (this.options.range === 'ema') {
      for (const layer of this.targets) {
        const w = network.params.get(layer.weight).variable;
        const r = maxAbs(w, this.options.perChannel);
        const param = network.params.add({
          name: `${layer.name}.minmax_range`,
          layer: layer.name,
          role: 'quantizer',
          trainable: false,
          variable: tf.variable(r, false, `${w.name}/minmax_range`),
        });
        r.dispose();
        this.ranges.set(layer.name, param);
      }
    }
    const names = new Set(this.layers);
    network.weightTransform = (layer, weight) => {
      if (!names.has(layer.name)) return weight;
      return steFakeQuantize(weight, this.scaleOf(layer, weight), qn, qp);
    };
    this.active = true;
  }

  private updateRanges(network: Network): void {
    const m = this.options.momentum;
    for (const layer of this.targets) {
      const ema = this.ranges.get(layer.name)!.variable;
      const w = network.params.get(layer.weight).variable;
      tf.tidy(() => ema.assign(tf.add(tf.mul(ema, m), tf.mul(maxAbs(w, this.options.perChannel), 1 - m))));
    }
  }

  /** s = range / qp, from the EMA range or the weight's current max |w|. */
  protected scaleOf(layer: WeightLayer, weight: tf.Tensor): tf.Tensor {
    const { qp } = this.range;
    return tf.tidy(() => rangeToScale(this.ranges.get(layer.name)?.variable ?? maxAbs(weight, this.options.perChannel), qp));
  }
}

export const minMaxPlugin = definePlugin({
  kind: 'quantizer',
  name: 'MinMax',
  description: 'Uniform symmetric min-max (or EMA range) weight fake quantization with a straight-through estimator (arXiv 1712.05877)',
  options: MinMaxOptions,
  hparams: { bits: choice([4, 5, 6, 7, 8]), startStep: choice([1000, 2000, 3000, 4000]) },
  async create(options, ctx) {
    return new MinMaxQuantizer(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
