import { createHash } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import type { interfaces } from 'inversify';
import {
  absoluteConfigPaths,
  checkTestEnvs,
  ConfigError,
  missingPaths,
  resolvePluginSpec,
  resolveRunConfig,
  sampleHParams,
  seedHash,
  validateRunConfig,
  type PluginRegistry,
  type ResolvedRunConfig,
  type ResolvedSection,
} from '@qtdog/core';
import type { SweepJobInfo } from '@qtdog/evaluation';
import type { LoadedSweepFile, QuantizerSettingInput, SectionInput } from './sweep-file.js';

/** One job of a sweep: its identity, its report metadata and the run config it trains. */
export interface SweepJob extends SweepJobInfo {
  /** The complete run config (every option explicit), as written to `<job>/config.yaml`. */
  config: RunConfigDoc;
}

/** A resolved config written back as a run config file (`{type, ...options}` sections). */
export type RunConfigDoc = Record<string, unknown> & { train: Record<string, unknown> };

export interface ExpandedSweep {
  jobs: SweepJob[];
  /** Environment names of each dataset. */
  datasets: Record<string, { environments: string[] }>;
}

type Obj = Record<string, unknown>;
const asSection = (s: SectionInput): Obj => (typeof s === 'string' ? { type: s } : { ...s });
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const without = (o: Obj, ...keys: string[]) => Object.fromEntries(Object.entries(o).filter(([k]) => !keys.includes(k)));

/** JSON with object keys sorted at every level, so equal configs always hash alike. */
export function stableStringify(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableStringify).join(',')}]`;
  if (isObj(v)) {
    return `{${Object.keys(v)
      .filter((k) => v[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableStringify(v[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * A job's folder name: a hash of its resolved config, like DomainBed's hash of a job's arguments. The
 * number of data-parallel workers is left out (it changes the results only up to float rounding and
 * depends on how many jobs run at once); plugin files are named as the sweep file writes them, so
 * moving the checkout does not rename every job.
 */
export function jobId(config: RunConfigDoc, pluginSpecs: readonly string[]): string {
  const identity = { ...config, plugins: pluginSpecs, train: without(config.train, 'workers') };
  return createHash('sha256').update(stableStringify(identity)).digest('hex').slice(0, 16);
}

function sectionDoc(s: ResolvedSection): Obj {
  return { type: s.type, ...s.options };
}

/** The resolved config as a run config file that `qtdog run` reads back to the same config. */
export function toRunConfigDoc(c: ResolvedRunConfig, plugins: string[]): RunConfigDoc {
  return {
    seed: c.seed,
    trialSeed: c.trialSeed,
    plugins,
    dataset: { ...sectionDoc(c.dataset), testEnvs: c.dataset.testEnvs, holdoutFraction: c.dataset.holdoutFraction },
    network: sectionDoc(c.network),
    algorithm: sectionDoc(c.algorithm),
    ...(c.quantizer ? { quantizer: sectionDoc(c.quantizer) } : {}),
    hooks: c.hooks.map(sectionDoc),
    evaluators: c.evaluators.map(sectionDoc),
    train: { ...c.train },
  };
}

/** Plugin specs as absolute paths, so a job's config works from its own folder. */
function absolutePlugins(specs: readonly string[], baseDir: string, file: string, keyPrefix: string): string[] {
  return specs.map((spec, i) => {
    try {
      return resolvePluginSpec(spec, baseDir);
    } catch (e) {
      throw new ConfigError(`${file}: ${keyPrefix}plugins[${i}]: ${(e as Error).message}`);
    }
  });
}

/**
 * The errors of every job in one message: a mistake shared by many jobs (a typo in the base) is
 * printed once, for the first job that has it, with a count of the others.
 */
function joinJobErrors(errors: Array<{ where: string; message: string }>): string {
  const byProblem = new Map<string, { line: string; more: number }>();
  for (const { where, message } of errors) {
    for (const line of message.split('\n')) {
      const problem = line.startsWith(where) ? line.slice(where.length) : line;
      const seen = byProblem.get(problem);
      if (seen) seen.more++;
      else byProblem.set(problem, { line, more: 0 });
    }
  }
  return [...byProblem.values()].map(({ line, more }) => (more > 0 ? `${line} (and ${more} more job${more > 1 ? 's' : ''})` : line)).join('\n');
}

/**
 * Draws the hyperparameters of one plugin that the sweep does not pin. Draw 0 keeps the defaults
 * (DomainBed's habit); draw k > 0 samples from the plugin's `hparams` distributions, seeded by the
 * sweep seed and the trial (each trial runs its own random search, as DomainBed seeds its draws with
 * (hparams_seed, trial_seed)).
 */
function drawHParams(registry: PluginRegistry, kind: 'algorithm' | 'quantizer', section: Obj, draw: number, sweepSeed: number, trialSeed: number): Obj {
  if (draw === 0) return section;
  const type = section.type as string;
  const dists = registry.has(kind, type) ? (registry.get(kind, type).hparams ?? {}) : {};
  const free = Object.fromEntries(Object.entries(dists).filter(([name]) => !(name in section)));
  return { ...section, ...sampleHParams(free, seedHash(sweepSeed, trialSeed), draw, type) };
}

function quantizerLabel(setting: Obj, resolved: ResolvedSection): string {
  if (typeof setting.name === 'string') return setting.name;
  const bits = resolved.options.bits;
  return typeof bits === 'number' ? `${resolved.type}-${bits}b` : resolved.type;
}

/**
 * The cross product of a sweep: datasets x algorithms x quantizer settings x test environments x
 * trials x hyperparameter draws, each assembled from the base config, validated by every plugin's
 * schema and named by its hash. Options written in the sweep or its base are pinned; the others of
 * the algorithm and quantizer are searched.
 */
export async function expandSweep(
  loaded: LoadedSweepFile,
  registry: PluginRegistry,
  container: interfaces.Container,
  log: (m: string) => void = () => {},
): Promise<ExpandedSweep> {
  const { sweep, base, file } = loaded;
  const sweepDir = dirname(resolve(file));
  const pluginSpecs = Array.isArray(base.plugins) ? (base.plugins as string[]) : [];
  const plugins = absolutePlugins(pluginSpecs, loaded.baseDir, loaded.baseFile, loaded.baseKeyPrefix);
  const baseAlgorithm = isObj(base.algorithm) ? without(base.algorithm, 'type') : {};
  const baseDataset = isObj(base.dataset) ? base.dataset : undefined;
  const datasets = (sweep.datasets ?? (baseDataset ? [baseDataset as SectionInput] : [])).map(asSection);
  if (datasets.length === 0) throw new ConfigError(`${file}: no dataset: give datasets: or a dataset in the base config`);
  const quantizers: QuantizerSettingInput[] = sweep.quantizers ?? [isObj(base.quantizer) ? (base.quantizer as QuantizerSettingInput) : 'none'];
  const trials = typeof sweep.trials === 'number' ? Array.from({ length: sweep.trials }, (_, i) => i) : sweep.trials;

  const out: ExpandedSweep = { jobs: [], datasets: {} };
  const seen = new Set<string>();
  const errors: Array<{ where: string; message: string }> = [];
  const warned = new Set<string>();
  // A warning about the base (IRM's anneal step in a short run) holds for every job: said once.
  const warn = (m: string) => {
    const problem = m.replace(/ \(job [^)]*\)/, '');
    if (!warned.has(problem)) log(m);
    warned.add(problem);
  };
  // Each distinct dataset section is built once: its environments check the test envs, and building
  // it catches what can be caught before any job runs (a missing or malformed image folder).
  const builtDatasets = new Map<string, Promise<readonly string[]>>();
  for (const ds of datasets) {
    // Options of the base's dataset carry over only to the same dataset type.
    const dsSection = baseDataset && baseDataset.type === ds.type ? { ...without(baseDataset, 'testEnvs'), ...ds } : { ...(baseDataset?.holdoutFraction !== undefined ? { holdoutFraction: baseDataset.holdoutFraction } : {}), ...ds };
    for (const alg of sweep.algorithms.map(asSection)) {
      const algSection = { ...baseAlgorithm, ...alg };
      for (const q of quantizers) {
        const qSetting = q === 'none' || q === null ? undefined : (q as Obj);
        const qSection = qSetting ? { ...(isObj(base.quantizer) && base.quantizer.type === qSetting.type ? base.quantizer : {}), ...without(qSetting, 'name') } : undefined;
        for (const testEnvs of sweep.testEnvs) {
          for (const trialSeed of trials) {
            for (let draw = 0; draw < sweep.hparams.draws; draw++) {
              const where = `${file} (job ${algSection.type}${qSetting ? `+${String(qSetting.name ?? qSetting.type)}` : ''}, ${ds.type}, test envs [${testEnvs.join(', ')}], trial ${trialSeed}, draw ${draw})`;
              const raw = {
                ...without(base, 'output', 'quantizer'),
                seed: draw,
                trialSeed,
                plugins,
                dataset: { ...dsSection, testEnvs },
                algorithm: drawHParams(registry, 'algorithm', algSection, draw, sweep.hparams.seed, trialSeed),
                ...(qSection ? { quantizer: drawHParams(registry, 'quantizer', qSection, draw, sweep.hparams.seed, trialSeed) } : {}),
              };
              // Path options are made absolute where they were written: the sweep's entries against the
              // sweep file's folder, the base's (and defaults) against the base's, as if it were run.
              const writtenInSweep: Record<string, Obj | undefined> = {
                dataset: sweep.datasets ? ds : undefined,
                algorithm: alg,
                quantizer: sweep.quantizers ? qSetting : undefined,
              };
              const folderOf = (section: string, key: string) => (writtenInSweep[section] && key in writtenInSweep[section] ? sweepDir : loaded.baseDir);
              let written: ResolvedRunConfig;
              let resolved: ResolvedRunConfig;
              try {
                written = resolveRunConfig(validateRunConfig(raw, where), registry, where, { warn });
                resolved = absoluteConfigPaths(written, registry, folderOf);
                const missing = missingPaths(resolved, registry, where);
                if (missing.length > 0) throw new ConfigError(missing.join('\n'));
                const dsKey = stableStringify({ type: resolved.dataset.type, options: resolved.dataset.options });
                if (!builtDatasets.has(dsKey)) {
                  const def = registry.get('dataset', resolved.dataset.type);
                  const options = resolved.dataset.options;
                  const building = (async () => {
                    const d = (await def.create(options, { container, seed: 0, baseDir: loaded.baseDir, log })) as { environments: readonly string[] };
                    return [...d.environments];
                  })();
                  // Awaited below by every job that uses it; this keeps a failure from being reported as unhandled.
                  building.catch(() => {});
                  builtDatasets.set(dsKey, building);
                }
                let environments: readonly string[];
                try {
                  environments = await builtDatasets.get(dsKey)!;
                } catch (e) {
                  // A dataset that cannot be built is a config problem of every job that uses it.
                  throw new ConfigError(`${where}: dataset: ${(e as Error).message}`);
                }
                out.datasets[ds.type as string] ??= { environments: [...environments] };
                checkTestEnvs(testEnvs, environments, resolved.dataset.type, where);
              } catch (e) {
                if (!(e instanceof ConfigError)) throw e;
                errors.push({ where, message: e.message });
                continue;
              }
              const config = toRunConfigDoc(resolved, plugins);
              // Named by the paths as written, like plugin files: moving the checkout renames no job.
              const id = jobId(toRunConfigDoc(written, plugins), pluginSpecs);
              if (seen.has(id)) {
                log(`${where}: same config as an earlier job; listed once`);
                continue;
              }
              seen.add(id);
              const qLabel = resolved.quantizer ? quantizerLabel(qSetting!, resolved.quantizer) : null;
              const bits = resolved.quantizer && typeof resolved.quantizer.options.bits === 'number' ? (resolved.quantizer.options.bits as number) : 32;
              out.jobs.push({
                id,
                label: qLabel ? `${resolved.algorithm.type}+${qLabel}` : resolved.algorithm.type,
                algorithm: resolved.algorithm.type,
                quantizer: qLabel,
                bits,
                dataset: resolved.dataset.type,
                testEnvs: [...testEnvs],
                draw,
                trialSeed,
                config,
              });
            }
          }
        }
      }
    }
  }
  if (errors.length > 0) throw new ConfigError(joinJobErrors(errors));
  return out;
}
