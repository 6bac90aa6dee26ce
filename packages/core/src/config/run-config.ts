import { z } from 'zod';

/** A `{ type: Name, ...options }` section; the options are validated by the named plugin's schema. */
export const PluginSection = z.looseObject({ type: z.string().min(1) });
export type PluginSection = z.infer<typeof PluginSection>;

/** Keys every dataset section has, handled by the trainer (DomainBed's protocol), not the plugin. */
export const DatasetProtocolOptions = z.object({
  /** Indices of the environments held out for testing (never trained on). */
  testEnvs: z.array(z.number().int().min(0)).min(1).default([0]),
  /** Fraction of every environment kept out of training for validation (DomainBed: 0.2). */
  holdoutFraction: z.number().gt(0).lt(1).default(0.2),
});

export const TrainOptions = z.strictObject({
  steps: z.number().int().positive(),
  checkpointFreq: z.number().int().positive().default(100),
  /**
   * Backend: auto picks tensorflow (tfjs-node) if it loads, else wasm with the native oneDNN kernels
   * (@qtdog/engine-onednn) if they load, else pure wasm, else cpu. `wasm` forces pure wasm; `onednn`
   * requires the native kernels.
   */
  backend: z.enum(['auto', 'onednn', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  /**
   * Data-parallel workers (threads, each with its own backend instance). 'auto' = the number of
   * cores on pure wasm; with the native kernels, what measured faster (docs/benchmarks.md). The cores
   * are shared out among the workers' native kernels. Results equal single-worker training up to
   * float rounding, for algorithms that support it.
   */
  workers: z.union([z.number().int().positive(), z.literal('auto')]).default('auto'),
  /** Batch size used when evaluating accuracy (memory only; results do not depend on it). */
  evalBatchSize: z.number().int().positive().default(500),
  /** What to do on a non-finite loss: stop the run, or skip the batch and count it. */
  onNonFinite: z.enum(['stop', 'skip']).default('stop'),
  /** Save the weights of the best checkpoint (training-domain validation) and the last one. */
  saveCheckpoints: z.boolean().default(true),
});

export const RunConfigSchema = z.strictObject({
  /** Seed of the hyperparameter draw (sweeps); kept in results. */
  seed: z.number().int().min(0).default(0),
  /** Seed of the trial: data splits, initialisation, sampling. */
  trialSeed: z.number().int().min(0).default(0),
  /** Extra plugin packages or files (paths relative to the config file). */
  plugins: z.array(z.string()).default([]),
  dataset: PluginSection,
  network: PluginSection,
  algorithm: PluginSection,
  quantizer: PluginSection.optional(),
  hooks: z.array(PluginSection).default([]),
  evaluators: z.array(PluginSection).default([]),
  train: TrainOptions,
  /** Output folder (the CLI's --out overrides it). Relative to the working directory. */
  output: z.string().optional(),
});

export type RunConfig = z.output<typeof RunConfigSchema>;
export type TrainConfig = z.output<typeof TrainOptions>;
