import { z } from 'zod';
import { log10Uniform, log2UniformInt, type HParamDistribution } from '../plugins/hparams.js';

/**
 * Hyperparameters every algorithm has (DomainBed's lr, batch_size, weight_decay). Defaults are
 * DomainBed's for the MNIST datasets; algorithms extend this schema with their own keys.
 */
export const BaseAlgorithmOptions = z.object({
  lr: z.number().positive().default(1e-3),
  /** Examples per training environment per step. */
  batchSize: z.number().int().positive().default(64),
  weightDecay: z.number().min(0).default(0),
});
export type BaseAlgorithmOptions = z.output<typeof BaseAlgorithmOptions>;

export const baseAlgorithmHParams: Record<string, HParamDistribution> = {
  lr: log10Uniform(-4.5, -2.5),
  batchSize: log2UniformInt(3, 9),
  weightDecay: log10Uniform(-6, -2),
};
