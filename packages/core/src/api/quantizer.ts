import type { Network } from './network.js';

/**
 * A quantizer attaches to a network (never to an algorithm). The trainer calls `onStep` before every
 * step; at its start step the quantizer adds its parameters to the network's ParamSet and installs
 * a weight transform, so whatever algorithm runs keeps training weights and step sizes together.
 */
export interface Quantizer {
  readonly name: string;
  readonly bits: number;
  onStep(step: number, network: Network): void;
  readonly active: boolean;
  /** Layers it quantizes (names), once active. */
  readonly layers: readonly string[];
  dispose?(): void;
}
