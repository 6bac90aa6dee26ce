import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { WeightScheduleOptions } from './quantizer-options.js';
import { definePlugin, log10Uniform, NetworkToken, Rng, seedHash, type Network, type Quantizer, type WeightLayer } from '@qtdog/core';
import { selectLayers } from './layer-patterns.js';

export const WeightNoiseOptions = WeightScheduleOptions.extend({
  /** Half-width a of the noise: every selected weight gets U(-a, a) (QT-DoG's ablation: 1e-4 to 5e-6). */
  amplitude: z.number().positive().default(1e-4),
});
export type WeightNoiseOptions = z.output<typeof WeightNoiseOptions>;

/**
 * Uniform weight noise in place of quantization, the ablation of QT-DoG (Javed et al., arXiv
 * 2410.06020, Sec. 4): from `startStep`, training forward passes use `w + u` with u ~ U(-a, a),
 * drawn afresh each step; evaluation uses the clean weights. The noise of a step is a function of
 * (seed, step, layer) alone, so data-parallel workers and a resumed run draw exactly the same noise.
 */
export class WeightNoiseQuantizer implements Quantizer {
  readonly name = 'WeightNoise';
  /** The weights stay float. */
  readonly bits = 32;
  active = false;
  readonly layers: string[];
  private readonly targets: WeightLayer[];
  private readonly noise = new Map<string, tf.Tensor>();
  private noiseStep = -1;

  constructor(
    network: Network,
    readonly options: WeightNoiseOptions,
    private readonly seed: number,
  ) {
    this.targets = selectLayers(network, options.layers, 'quantizer');
    this.layers = this.targets.map((l) => l.name);
  }

  onStep(step: number, network: Network): void {
    if (step < this.options.startStep) return;
    if (!this.active) {
      network.weightTransform = (layer, weight, training) => {
        const u = training ? this.noise.get(layer.name) : undefined;
        return u ? tf.add(weight, u) : weight;
      };
      this.active = true;
    }
    if (step !== this.noiseStep) this.draw(step, network);
  }

  /** The noise tensors of the current step (for tests). */
  currentNoise(layer: string): tf.Tensor | undefined {
    return this.noise.get(layer);
  }

  private draw(step: number, network: Network): void {
    this.disposeNoise();
    const a = this.options.amplitude;
    for (const layer of this.targets) {
      const w = network.params.get(layer.weight).variable;
      const rng = new Rng(seedHash(this.seed, 'weight-noise', step, layer.name));
      const values = new Float32Array(w.size);
      for (let i = 0; i < values.length; i++) values[i] = rng.uniform(-a, a);
      this.noise.set(layer.name, tf.tensor(values, w.shape));
    }
    this.noiseStep = step;
  }

  private disposeNoise(): void {
    for (const t of this.noise.values()) t.dispose();
    this.noise.clear();
  }

  dispose(): void {
    this.disposeNoise();
  }
}

export const weightNoisePlugin = definePlugin({
  kind: 'quantizer',
  name: 'WeightNoise',
  description: "Uniform weight noise U(-a, a) while training, from startStep (QT-DoG's noise ablation, arXiv 2410.06020)",
  options: WeightNoiseOptions,
  hparams: { amplitude: log10Uniform(-5.3, -4) },
  async create(options, ctx) {
    return new WeightNoiseQuantizer(await ctx.container.getAsync<Network>(NetworkToken), options, ctx.seed);
  },
});
