import * as tf from '@tensorflow/tfjs-core';
import { RunError, type ActivationSite, type Network, type Param } from '@qtdog/core';
import { lsqFakeQuantize, signedRange } from './lsq-op.js';

/** Unsigned range of b bits: [0, 2^b - 1] (8 bits: [0, 255]), for activations after a ReLU. */
export function unsignedRange(bits: number): { qn: number; qp: number } {
  return { qn: 0, qp: 2 ** bits - 1 };
}

/**
 * LSQ on activations (Esser et al., arXiv 1902.08153): at every activation site the network
 * declares, a learned step size per tensor, unsigned after a ReLU and signed elsewhere. LSQ
 * initialises it from data (2 * mean|x| / sqrt(qp)), so a step size starts at 0, meaning "not yet
 * initialised", and takes its value from the first training batch that reaches the site. Step sizes
 * live in the ParamSet (role 'quantizer'): the optimizer trains them, checkpoints and resumed runs
 * keep them, and data-parallel workers receive the main thread's values with the weights.
 */
export class LsqActivations {
  private readonly steps = new Map<string, Param>();
  /** Sites whose step size is known to be set (read once from the variable after a resume). */
  private readonly ready = new Set<string>();

  constructor(
    private readonly sites: readonly ActivationSite[],
    private readonly bits: number,
  ) {}

  /** The network's activation sites, or an error saying this network has none. */
  static sitesOf(network: Network): readonly ActivationSite[] {
    const sites = network.activationSites ?? [];
    if (sites.length === 0) {
      throw new RunError(`LSQ quantizeActivations: the network ${network.name} declares no activation sites (MNIST_CNN does); turn quantizeActivations off`);
    }
    return sites;
  }

  private range(site: ActivationSite): { qn: number; qp: number } {
    return site.unsigned ? unsignedRange(this.bits) : signedRange(this.bits);
  }

  /** Adds the step sizes to the network and installs the activation transform. */
  install(network: Network): void {
    for (const site of this.sites) {
      const name = `${site.name}.lsq_act_step`;
      const param = network.params.has(name)
        ? network.params.get(name)
        : network.params.add({ name, layer: site.name, role: 'quantizer', variable: tf.variable(tf.scalar(0), true, `${network.name}/${name}`) });
      this.steps.set(site.name, param);
    }
    network.activationTransform = (site, x, training) => this.quantize(site, x, training);
  }

  private initialised(site: ActivationSite, s: tf.Variable): boolean {
    if (this.ready.has(site.name)) return true;
    if ((s.dataSync() as Float32Array)[0]! > 0) this.ready.add(site.name);
    return this.ready.has(site.name);
  }

  private quantize(site: ActivationSite, x: tf.Tensor, training: boolean): tf.Tensor {
    const param = this.steps.get(site.name);
    if (!param) return x;
    const s = param.variable;
    const { qn, qp } = this.range(site);
    if (!this.initialised(site, s)) {
      // Not initialised and not training (an evaluation before the first step): full precision.
      if (!training) return x;
      tf.tidy(() => s.assign(tf.maximum(tf.div(tf.mul(tf.mean(tf.abs(x)), 2), Math.sqrt(qp)), 1e-8)));
      this.ready.add(site.name);
    }
    // LSQ's gradient scale for activations: 1 / sqrt(qp * features per example).
    const perExample = x.size / x.shape[0]!;
    return lsqFakeQuantize(x, s, qn, qp, 1 / Math.sqrt(qp * perExample));
  }

  /** Current step size of a site (tests). */
  stepSize(site: string): tf.Variable | undefined {
    return this.steps.get(site)?.variable;
  }
}
