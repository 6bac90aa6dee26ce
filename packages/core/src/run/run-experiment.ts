import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import type { ContainerModule } from 'inversify';
import { engineDescription, nativeKernels, resolvedPreference, selectBackend, type BackendPreference } from '@qtdog/engine';
import { loadConfigFile, type LoadedConfig } from '../config/load-config.js';
import { RunError } from '../errors.js';
import { loadPluginModules } from '../plugins/load-plugins.js';
import { DataParallelAlgorithm } from '../parallel/data-parallel.js';
import { supportsDataParallel, type Algorithm } from '../api/algorithm.js';
import { STATE_DIR, Trainer, type Progress, type RunSummary } from '../training/trainer.js';
import { configHash, disposeRunState, loadLatestRunState, type RunState } from '../training/run-state.js';
import { readResults } from '../results/results-writer.js';
import { bindRunComponents, createPluginContainer, resolveRunComponents } from './run-container.js';
import { LOCK_FILE, lockRunFolder } from './run-lock.js';

/** The run folder's record of the config file it was started from (`{ configFile, baseDir }`). */
export const RUN_SOURCE_FILE = 'source.json';

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
  /** What computed, in words (e.g. 'wasm + oneDNN 2.6.3 (2 threads)'). */
  engine: string;
  workers: number;
}

/** Free bytes where `dir` lives (statfs), or Infinity where it cannot be told. */
function freeBytes(dir: string): number {
  try {
    const st = statfsSync(dir);
    return st.bavail * st.bsize;
  } catch {
    return Infinity;
  }
}

/** Space a run needs at least: three copies of the weights (best, last, state) and their previous versions, plus slack. */
const MIN_FREE_BYTES = 64 * 2 ** 20;

interface Prepared {
  resume?: { state: RunState; records: Record<string, unknown>[] };
}

/**
 * Checks the output folder before any training: refuses a finished run (unless overwriting), resumes
 * an unfinished run of the same config, refuses one of another config, and reports an unwritable or
 * full location.
 */
function prepareOutDir(outDir: string, hash: string, overwrite: boolean, log: (m: string) => void): Prepared {
  if (existsSync(join(outDir, 'done')) && !overwrite) {
    throw new RunError(`${outDir} already holds a finished run (it has a 'done' file); pass --overwrite to replace it or choose another --out`);
  }
  if (overwrite) {
    // Everything but our own lock goes.
    for (const entry of readdirSync(outDir)) if (entry !== LOCK_FILE) rmSync(join(outDir, entry), { recursive: true, force: true });
  }
  try {
    mkdirSync(outDir, { recursive: true });
    accessSync(outDir, constants.W_OK);
    const probe = join(outDir, `.write-test-${process.pid}`);
    writeFileSync(probe, 'x');
    rmSync(probe);
  } catch (e) {
    throw new RunError(`cannot write to output folder ${outDir}: ${(e as Error).message}`);
  }
  const free = freeBytes(outDir);
  if (free < MIN_FREE_BYTES) {
    throw new RunError(`output folder ${outDir} has only ${(free / 2 ** 20).toFixed(1)} MiB free; a run needs at least ${MIN_FREE_BYTES / 2 ** 20} MiB`);
  }
  const resultsPath = join(outDir, 'results.jsonl');
  const savedConfig = join(outDir, 'config.json');
  if (!existsSync(resultsPath) && !existsSync(join(outDir, STATE_DIR))) return {};
  const savedHash = existsSync(savedConfig) ? configHash(JSON.parse(readFileSync(savedConfig, 'utf8')) as object) : undefined;
  if (savedHash !== undefined && savedHash !== hash) {
    throw new RunError(`${outDir} holds an unfinished run of a different config; pass --overwrite to replace it or choose another --out`);
  }
  const state = loadLatestRunState(join(outDir, STATE_DIR), log);
  if (!state) {
    log(`${outDir}: unfinished run without a usable checkpoint; starting over`);
    rmSync(resultsPath, { force: true });
    return {};
  }
  if (state.configHash !== hash) {
    disposeRunState(state);
    throw new RunError(`${outDir} holds an unfinished run of a different config; pass --overwrite to replace it or choose another --out`);
  }
  // Keep the lines up to the checkpoint (a torn last line or later lines are dropped and redone).
  const records = readResults(resultsPath).filter((r) => (r.step as number) <= state.step);
  const tmp = `${resultsPath}.tmp-${process.pid}`;
  writeFileSync(tmp, records.map((r) => JSON.stringify(r) + '\n').join(''));
  renameSync(tmp, resultsPath);
  return { resume: { state, records } };
}

/**
 * The cores this run may use: QTDOG_CORES when set (the local launcher sets each job's share when
 * jobs run side by side), else all of them. Native kernel threads and `workers: auto` follow it.
 */
export function runCores(log: (m: string) => void = () => {}): number {
  const all = availableParallelism();
  const env = process.env.QTDOG_CORES?.trim();
  if (!env) return all;
  const n = Number(env);
  if (!Number.isInteger(n) || n < 1) {
    log(`QTDOG_CORES='${env}' is not a positive whole number; using all ${all} cores`);
    return all;
  }
  return n;
}

/** Loads a config, builds the run's container from it, selects the backend and trains. */
export async function runExperiment(configPath: string, opts: RunOptions): Promise<RunResult> {
  const log = opts.log ?? (() => {});
  const loaded: LoadedConfig = loadConfigFile(configPath);
  const extra = await loadPluginModules(loaded.config.plugins, loaded.baseDir, loaded.file);
  const { container, registry } = createPluginContainer([...opts.modules, ...extra]);
  const outDir = resolve(opts.outDir ?? loaded.config.output ?? join('runs', configName(configPath)));
  const config = bindRunComponents(container, registry, loaded, outDir, log);
  const cores = runCores(log);
  const backend = await selectBackend(config.train.backend as BackendPreference, log, { nativeThreads: cores });
  const parts = await resolveRunComponents(container, config, loaded.file);
  const hash = configHash(config);
  try {
    mkdirSync(outDir, { recursive: true });
  } catch (e) {
    throw new RunError(`cannot write to output folder ${outDir}: ${(e as Error).message}`);
  }
  const unlock = lockRunFolder(outDir, log);
  let prepared: Prepared;
  try {
    prepared = prepareOutDir(outDir, hash, opts.overwrite ?? false, log);
  } catch (e) {
    unlock();
    throw e;
  }
  writeFileSync(join(outDir, 'config.json'), JSON.stringify(config, null, 2));
  // Where the config came from, so tools that rebuild the run (export, ensemble) resolve its relative
  // paths (plugins:, dataDir) as the run did. Kept out of config.json, whose hash decides resuming.
  writeFileSync(join(outDir, RUN_SOURCE_FILE), JSON.stringify({ configFile: resolve(loaded.file), baseDir: resolve(loaded.baseDir) }, null, 2));
  // auto: one worker per core, with the native kernels too. On 2 cores, 2 workers x 1 oneDNN thread
  // trained MNIST_CNN 1.1-1.5x faster than 1 worker x 2 threads (ResNet-18: 0.92x): what surrounds
  // the convolutions runs on one thread per worker (docs/benchmarks.md, "The native engine").
  const requested = config.train.workers === 'auto' ? cores : config.train.workers;
  let algorithm: Algorithm = parts.algorithm;
  let dp: DataParallelAlgorithm | undefined;
  if (requested > 1) {
    if (backend === 'tensorflow') log('workers: tfjs-node runs multi-threaded kernels itself; training on one thread');
    else if (!opts.moduleSpecifiers) log('workers: module package names not given; training on one thread');
    else if (!supportsDataParallel(parts.algorithm)) log(`workers: ${parts.algorithm.name} does not support data-parallel training; one thread`);
    else {
      // The cores are shared out: each thread's native kernels get their part of them.
      const native = nativeKernels();
      const nativeThreads = Math.max(1, Math.floor(cores / requested));
      if (native && native.threads !== nativeThreads) await selectBackend(resolvedPreference(), undefined, { nativeThreads });
      const init = { loaded, moduleSpecifiers: opts.moduleSpecifiers, outDir, backend: resolvedPreference(), nativeThreads };
      dp = await DataParallelAlgorithm.create(parts.algorithm, parts.network, init, requested);
      algorithm = dp;
      log(`workers: ${requested} (data-parallel threads${native ? `, each on ${engineDescription()}` : ''})`);
    }
  }
  const trainer = new Trainer({
    ...parts,
    algorithm,
    configFile: loaded.file,
    configHash: hash,
    resume: prepared.resume,
    outDir,
    backend,
    engine: engineDescription(),
    workers: dp?.numWorkers ?? 1,
    workerNumTensors: dp ? () => dp.workerNumTensors : undefined,
    log,
    onProgress: opts.onProgress,
  });
  try {
    const summary = await trainer.run();
    return { ...summary, backend, engine: engineDescription(), workers: dp?.numWorkers ?? 1 };
  } finally {
    unlock();
    // The trainer frees the loaded state once restored; this covers a failure before that (a
    // second dispose is a no-op).
    if (prepared.resume) disposeRunState(prepared.resume.state);
    algorithm.dispose?.();
    parts.quantizer?.dispose?.();
    for (const h of parts.hooks) h.dispose?.();
    parts.network.dispose();
  }
}

function configName(path: string): string {
  return path.replace(/\\/g, '/').split('/').pop()!.replace(/\.(ya?ml|json)$/i, '');
}

