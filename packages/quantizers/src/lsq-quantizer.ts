import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { choice, definePlugin, NetworkToken, type Network, type Param, type WeightLayer } from '@qtdog/core';
import { LayerQuantizer } from './layer-quantizer.js';
import { IntegerQuantizerOptions } from './quantizer-options.js';
import { LsqActivations } from './lsq-activations.js';
import { initStepSize, lsqFakeQuantize } from './lsq-op.js';

export const LsqOptions = IntegerQuantizerOptions.extend({
  /** Also fake-quantize activations at the network's activation sites (LSQ, unsigned after ReLU); QT-DoG quantizes weights only. */
  quantizeActivations: z.boolean().default(false),
  /** Bits of the quantized activations. */
  activationBits: z.number().int().min(2).max(8).default(8),
});
export type LsqOptions = z.output<typeof LsqOptions>;

/**
 * LSQ weight quantization as QT-DoG uses it (Javed et al., arXiv 2410.06020): at `startStep` the
 * selected layers switch to fake-quantized weights with a learned step size per output channel. The
 * step sizes join the network's ParamSet, so the optimizer trains weights and step sizes together.
 */
export class LsqQuantizer extends LayerQuantizer<LsqOptions> {
  readonly name = 'LSQ';
  private readonly steps = new Map<string, Param>();
  /** Activation quantization, when `quantizeActivations` is on. */
  readonly activations?: LsqActivations;

  constructor(network: Network, options: LsqOptions) {
    super(network, options);
    if (options.quantizeActivations) this.activations = new LsqActivations(LsqActivations.sitesOf(network), options.activationBits);
  }

  onStep(step: number, network: Network): void {
    if (this.active || step < this.options.startStep) return;
    this.activate(network);
  }

  /** Initialises step sizes from the current weights and installs the fake-quantizing transform. */
  activate(network: Network): void {
    const { qn, qp } = this.range;
    for (const layer of this.targets) {
      const w = network.params.get(layer.weight).variable;
      const s = initStepSize(w, qp, this.options.perChannel);
      const name = `${layer.name}.lsq_step`;
      const param = network.params.add({
        name,
        layer: layer.name,
        role: 'quantizer',
        variable: tf.variable(s, true, `${w.name}/lsq_step`),
      });
      s.dispose();
      this.steps.set(layer.name, param);
    }
    const scales = new Map(this.targets.map((l) => [l.name, 1 / Math.sqrt(qp * network.params.get(l.weight).variable.size)]));
    network.weightTransform = (layer, weight) => {
      const step = this.steps.get(layer.name);
      if (!step) return weight;
      return lsqFakeQuantize(weight, step.variable, qn, qp, scales.get(layer.name)!);
    };
    this.activations?.install(network);
    this.active = true;
  }

  /** Current step size of a layer (for tests and export). */
  stepSize(layer: string): tf.Variable | undefined {
    return this.steps.get(layer)?.variable;
  }

  protected scaleOf(layer: WeightLayer): tf.Tensor {
    return tf.clone(this.steps.get(layer.name)!.variable);
  }
}

export const lsqPlugin = definePlugin({
  kind: 'quantizer',
  name: 'LSQ',
  description: 'LSQ learned-step-size weight quantization, per channel, switched on at startStep (QT-DoG, arXiv 2410.06020)',
  options: LsqOptions,
  hparams: { bits: choice([4, 5, 6, 7, 8]), startStep: choice([1000, 2000, 3000, 4000]) },
  async create(options, ctx) {
    return new LsqQuantizer(await ctx.container.getAsync<Network>(NetworkToken), options);
  },
});
