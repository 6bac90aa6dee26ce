import * as tf from '@tensorflow/tfjs-core';
import type { z } from 'zod';
import type { Network, WeightLayer } from '@qtdog/core';
import { integerCodes, type IntegerQuantizer, type IntegerWeights } from './integer-weights.js';
import { selectLayers } from './layer-patterns.js';
import { signedRange } from './lsq-op.js';
import type { IntegerQuantizerOptions } from './quantizer-options.js';

/**
 * What LSQ and MinMax share: the layers they quantize (from `layers:` patterns), their bits and
 * signed integer range, and the export of their weights as integer codes times scales. Each
 * subclass says when it switches on and what a layer's scale is.
 */
export abstract class LayerQuantizer<O extends z.output<typeof IntegerQuantizerOptions>> implements IntegerQuantizer {
  abstract readonly name: string;
  active = false;
  readonly layers: string[];
  protected readonly targets: WeightLayer[];

  constructor(
    network: Network,
    readonly options: O,
  ) {
    this.targets = selectLayers(network, options.layers, 'quantizer');
    this.layers = this.targets.map((l) => l.name);
  }

  get bits(): number {
    return this.options.bits;
  }

  /** The signed integer range [qn, qp] of `bits`. */
  protected get range(): { qn: number; qp: number } {
    return signedRange(this.options.bits);
  }

  abstract onStep(step: number, network: Network): void;

  /** A new tensor with the scale of a layer's integer grid (weight ~ codes * scale); the caller disposes it. */
  protected abstract scaleOf(layer: WeightLayer, weight: tf.Tensor): tf.Tensor;

  integerWeights(network: Network): IntegerWeights[] {
    if (!this.active) return [];
    const { qn, qp } = this.range;
    return this.targets.map((layer) => {
      const w = network.params.get(layer.weight).variable;
      const s = this.scaleOf(layer, w);
      const out: IntegerWeights = {
        layer: layer.name,
        weight: layer.weight,
        bits: this.options.bits,
        qn,
        qp,
        shape: w.shape,
        codes: integerCodes(w, s, qn, qp),
        scaleShape: s.shape,
        scales: Float32Array.from(s.dataSync() as Float32Array),
      };
      s.dispose();
      return out;
    });
  }
}
