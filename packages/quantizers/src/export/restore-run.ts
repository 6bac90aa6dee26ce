import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import {
  bindRunComponents,
  ConfigError,
  createPluginContainer,
  DataError,
  DatasetToken,
  isQtdogError,
  loadPluginModules,
  loadWeights,
  NetworkToken,
  QuantizerToken,
  RUN_SOURCE_FILE,
  validateRunConfig,
  type DomainDataset,
  type Network,
  type Quantizer,
  type ResolvedRunConfig,
} from '@qtdog/core';

/** The ContainerModules plugins come from (the CLI passes `builtinModules()`). */
export type PluginModules = Parameters<typeof createPluginContainer>[0];

export type CheckpointName = 'best' | 'last';

export interface RestoreOptions {
  /** Modules of the installed qtdog packages; the run's own `plugins:` are loaded on top. */
  modules: PluginModules;
  checkpoint?: CheckpointName;
  /**
   * Folder the run's config file was in: its relative paths (`plugins:`, a dataset's `dataDir`)
   * resolve against it. Default: the folder the run recorded in its source.json, else the current folder.
   */
  baseDir?: string;
  log?: (m: string) => void;
}

/** A trained model as it was at a checkpoint: the network with its quantizer switched on as in training. */
export interface RestoredRun {
  runDir: string;
  config: ResolvedRunConfig;
  checkpoint: CheckpointName;
  step: number;
  /** The checkpoint manifest's meta (step, trainDomainValAcc, ...). */
  meta: Record<string, unknown>;
  dataset: DomainDataset;
  network: Network;
  quantizer?: Quantizer;
  dispose(): void;
}

/** The config folder a run recorded (source.json), if it did and that folder still exists. */
function recordedBaseDir(runDir: string): string | undefined {
  try {
    const { baseDir } = JSON.parse(readFileSync(join(runDir, RUN_SOURCE_FILE), 'utf8')) as { baseDir?: string };
    return baseDir && existsSync(baseDir) ? baseDir : undefined;
  } catch {
    return undefined; // runs from before source.json, or a torn file: the caller's default applies
  }
}

/**
 * Why a checkpoint is missing: a run still before its first checkpoint has none yet; a finished run
 * without checkpoints was trained with train.saveCheckpoints off.
 */
function missingCheckpointMessage(dir: string, checkpoint: CheckpointName, config: ResolvedRunConfig): string {
  const finished = existsSync(join(dir, 'done'));
  const train = config.train as { saveCheckpoints?: boolean; checkpointFreq?: number; steps?: number };
  if (!finished && train.saveCheckpoints !== false) {
    return `${dir}: no checkpoint exists yet: the run has not finished and has not reached its first checkpoint (one every ${train.checkpointFreq ?? '?'} steps of ${train.steps ?? '?'}); wait for it, or lower train.checkpointFreq`;
  }
  return `${dir}: no '${checkpoint}' checkpoint (checkpoints/${checkpoint}/manifest.json is missing; was train.saveCheckpoints off?)`;
}

/** Reads a run folder's resolved config (config.json). */
export function readRunConfig(runDir: string): ResolvedRunConfig {
  const file = join(runDir, 'config.json');
  if (!existsSync(file)) throw new DataError(`${runDir} is not a qtdog run folder (no config.json)`);
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as ResolvedRunConfig;
  } catch (e) {
    throw new DataError(`${file}: cannot read (${(e as Error).message})`);
  }
}

/** The `{type, ...options}` form of a resolved config, so it can be bound like a config file. */
export function unresolveConfig(c: ResolvedRunConfig): Record<string, unknown> {
  const section = (s: { type: string; options: Record<string, unknown> }) => ({ type: s.type, ...s.options });
  return {
    seed: c.seed,
    trialSeed: c.trialSeed,
    plugins: c.plugins,
    dataset: { ...section(c.dataset), testEnvs: c.dataset.testEnvs, holdoutFraction: c.dataset.holdoutFraction },
    network: section(c.network),
    algorithm: section(c.algorithm),
    ...(c.quantizer ? { quantizer: section(c.quantizer) } : {}),
    hooks: c.hooks.map(section),
    evaluators: c.evaluators.map(section),
    train: c.train,
    ...(c.output !== undefined ? { output: c.output } : {}),
  };
}

/**
 * Rebuilds a run's network and quantizer from its config.json through the same container binding
 * as training, and loads a checkpoint into them. The quantizer is switched on exactly when it was
 * at the checkpoint's step, so the network computes what it computed in training's evaluation
 * (fake-quantized weights for LSQ and MinMax). The dataset is built but not loaded.
 */
export async function restoreRun(runDir: string, opts: RestoreOptions): Promise<RestoredRun> {
  const dir = resolve(runDir);
  const checkpoint = opts.checkpoint ?? 'best';
  const log = opts.log ?? (() => {});
  const resolved = readRunConfig(dir);
  const file = join(dir, 'config.json');
  const baseDir = resolve(opts.baseDir ?? recordedBaseDir(dir) ?? process.cwd());
  const loaded = { config: validateRunConfig(unresolveConfig(resolved), file), file, baseDir };
  let extra: PluginModules;
  try {
    extra = await loadPluginModules(loaded.config.plugins, baseDir, file);
  } catch (e) {
    if (e instanceof ConfigError) {
      throw new ConfigError(`${e.message}; the run's plugins: paths are relative to its config file's folder: pass that folder as --base-dir`);
    }
    throw e;
  }
  const { container, registry } = createPluginContainer([...opts.modules, ...extra]);
  const config = bindRunComponents(container, registry, loaded, dir, log);
  const dataset = await container.getAsync<DomainDataset>(DatasetToken);
  const network = await container.getAsync<Network>(NetworkToken);
  let quantizer: Quantizer | undefined;
  try {
    quantizer = container.isBound(QuantizerToken) ? await container.getAsync<Quantizer>(QuantizerToken) : undefined;
    const ckDir = join(dir, 'checkpoints', checkpoint);
    if (!existsSync(join(ckDir, 'manifest.json'))) throw new DataError(missingCheckpointMessage(dir, checkpoint, resolved));
    const { tensors, manifest } = loadWeights(ckDir);
    try {
      const step = manifest.meta.step as number;
      // Weights first, so a quantizer that initialises from them sees trained values; then its
      // switch at the checkpoint's step, which adds its parameters; then everything, its own included.
      for (const p of network.params.all()) if (tensors[p.name]) p.variable.assign(tensors[p.name]!);
      quantizer?.onStep(step, network);
      const names = network.params.all().map((p) => p.name);
      const missing = names.filter((n) => !tensors[n]);
      const extraNames = Object.keys(tensors).filter((n) => !names.includes(n));
      if (missing.length || extraNames.length) {
        throw new DataError(
          `${ckDir}: the checkpoint does not match the run's network${quantizer ? ` and ${quantizer.name} quantizer` : ''} at step ${step}: ` +
            `missing ${missing.join(', ') || 'none'}; unexpected ${extraNames.join(', ') || 'none'}`,
        );
      }
      for (const p of network.params.all()) p.variable.assign(tensors[p.name]!);
      return {
        runDir: dir,
        config,
        checkpoint,
        step,
        meta: manifest.meta,
        dataset,
        network,
        quantizer,
        dispose() {
          quantizer?.dispose?.();
          network.dispose();
        },
      };
    } finally {
      tf.dispose(Object.values(tensors));
    }
  } catch (e) {
    quantizer?.dispose?.();
    network.dispose();
    if (isQtdogError(e)) throw e;
    throw new DataError(`${dir}: cannot restore the '${checkpoint}' checkpoint: ${(e as Error).message}`, { cause: e });
  }
}
