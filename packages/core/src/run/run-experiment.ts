import { existsSync, mkdirSync, accessSync, constants, writeFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { ContainerModule } from 'inversify';
import { selectBackend, type BackendPreference } from '@qtdog/engine';
import { loadConfigFile, type LoadedConfig } from '../config/load-config.js';
import { RunError } from '../errors.js';
import { loadPluginModules } from '../plugins/load-plugins.js';
import { DataParallelAlgorithm } from '../parallel/data-parallel.js';
import type { Algorithm } from '../api/algorithm.js';
import { Trainer, type Progress, type RunSummary } from '../training/trainer.js';
import { bindRunComponents, createPluginContainer, resolveRunComponents } from './run-container.js';

export interface RunOptions {
  /** ContainerModules of the installed qtdog packages (the CLI passes all of them). */
  modules: ContainerModule[];
  /**
   * The same modules as package names (or file paths), so data-parallel worker threads can load
   * them. Without it, training runs on one thread.
   */
  moduleSpecifiers?: string[];
  /** Output folder; defaults to the config's `output`, else runs/<config name>. */
  outDir?: string;
  /** Replace a finished run in the output folder. */
  overwrite?: boolean;
  log?: (msg: string) => void;
  onProgress?: (p: Progress) => void;
}

export interface RunResult extends RunSummary {
  backend: string;
  workers: number;
}

function prepareOutDir(outDir: string, overwrite: boolean): void {
  if (existsSync(join(outDir, 'done')) && !overwrite) {
    throw new RunError(`${outDir} already holds a finished run (it has a 'done' file); pass --overwrite to replace it or choose another --out`);
  }
  if (overwrite) rmSync(outDir, { recursive: true, force: true });
  try {
    mkdirSync(outDir, { recursive: true });
    accessSync(outDir, constants.W_OK);
  } catch (e) {
    throw new RunError(`cannot write to output folder ${outDir}: ${(e as Error).message}`);
  }
  // A partial run of another config would mix results: refuse it (resume comes with its own issue).
  const resultsPath = join(outDir, 'results.jsonl');
  if (existsSync(resultsPath) && !overwrite) {
    throw new RunError(`${outDir} holds an unfinished run (results.jsonl without 'done'); pass --overwrite to start over`);
  }
}

/** Loads a config, builds the run's container from it, selects the backend and trains. */
export async function runExperiment(configPath: string, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  const loaded: LoadedConfig = loadConfigFile(configPath);
  const extra = await loadPluginModules(loaded.config.plugins, loaded.baseDir, loaded.file);
  const { container, registry } = createPluginContainer([...opts.modules, ...extra]);
  const outDir = resolve(opts.outDir ?? loaded.config.output ?? join('runs', configName(configPath)));
  const config = bindRunComponents(container, registry, loaded, outDir, log);
  const backend = await selectBackend(config.train.backend as BackendPreference, log);
  const parts = await resolveRunComponents(container, config, loaded.file);
  prepareOutDir(outDir, opts.overwrite ?? false);
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(config, null, 2));
  const requested = config.train.workers === 'auto' ? availableParallelism() : config.train.workers;
  let algorithm: Algorithm = parts.algorithm;
  let dp: DataParallelAlgorithm | undefined;
  if (requested > 1) {
    if (backend === 'tensorflow') log('workers: tfjs-node runs multi-threaded kernels itself; training on one thread');
    else if (!opts.moduleSpecifiers) log('workers: module package names not given; training on one thread');
    else if (!parts.algorithm.computeGradients) log(`workers: ${parts.algorithm.name} does not support data-parallel training; one thread`);
    else {
      dp = await DataParallelAlgorithm.create(parts.algorithm, parts.network, { loaded, moduleSpecifiers: opts.moduleSpecifiers, outDir, backend }, requested);
      algorithm = dp;
      log(`workers: ${requested} (data-parallel threads)`);
    }
  }
  const trainer = new Trainer({
    ...parts,
    algorithm,
    configFile: loaded.file,
    outDir,
    backend,
    workers: dp?.numWorkers ?? 1,
    workerNumTensors: dp ? () => dp.workerNumTensors : undefined,
    log,
    onProgress: opts.onProgress,
  });
  try {
    const summary = await trainer.run();
    return { ...summary, backend, workers: dp?.numWorkers ?? 1 };
  } finally {
    algorithm.dispose?.();
    parts.quantizer?.dispose?.();
    for (const h of parts.hooks) h.dispose?.();
    parts.network.dispose();
  }
}

function configName(path: string): string {
  return path.replace(/\\/g, '/').split('/').pop()!.replace(/\.(ya?ml|json)$/i, '');
}

