import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { PluginKind } from '../plugins/plugin.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { formatIssues } from './format-issues.js';
import { stepOptionProblem, stepOptionsOf } from './step-options.js';
import { DatasetProtocolOptions, type PluginSection, type RunConfig } from './run-config.js';

/** A plugin section after validation: the type and its full options, defaults filled in. */
export interface ResolvedSection {
  type: string;
  options: Record<string, unknown>;
}

export interface ResolvedRunConfig {
  seed: number;
  trialSeed: number;
  plugins: string[];
  dataset: ResolvedSection & { testEnvs: number[]; holdoutFraction: number };
  network: ResolvedSection;
  algorithm: ResolvedSection;
  quantizer?: ResolvedSection;
  hooks: ResolvedSection[];
  evaluators: ResolvedSection[];
  train: RunConfig['train'];
  output?: string;
}

function strictOf(schema: z.ZodType): z.ZodType {
  return schema instanceof z.ZodObject ? schema.strict() : schema;
}

/** Validates one `{type, ...options}` section against its plugin's schema. */
export function resolveSection(
  registry: PluginRegistry,
  kind: PluginKind,
  section: PluginSection,
  path: Array<string | number>,
  file: string,
): ResolvedSection {
  const where = `${file}: ${[...path, 'type'].join('.').replace(/\.(\d+)/g, '[$1]')}`;
  let def;
  try {
    def = registry.get(kind, section.type, where);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  const { type: _type, ...rest } = section;
  const schema = strictOf(def.options);
  const r = schema.safeParse(rest, { reportInput: true });
  if (!r.success) throw new ConfigError(formatIssues(file, path, r.error.issues, schema));
  return { type: section.type, options: r.data as Record<string, unknown> };
}

export interface ResolveOptions {
  /** Where warnings go (a step option the run never reaches, when that is only a warning). */
  warn?: (message: string) => void;
}

/**
 * Validates every plugin section; the result is what a run records as its full config. Every
 * section is checked before failing, so one error lists all the mistakes of the file.
 */
export function resolveRunConfig(config: RunConfig, registry: PluginRegistry, file: string, opts: ResolveOptions = {}): ResolvedRunConfig {
  const problems: string[] = [];
  const attempt = <T>(f: () => T): T | undefined => {
    try {
      return f();
    } catch (e) {
      if (!(e instanceof ConfigError)) throw e;
      problems.push(e.message);
      return undefined;
    }
  };
  const { testEnvs, holdoutFraction, ...datasetRest } = config.dataset as PluginSection & Record<string, unknown>;
  const proto = DatasetProtocolOptions.safeParse({ testEnvs, holdoutFraction }, { reportInput: true });
  if (!proto.success) problems.push(formatIssues(file, ['dataset'], proto.error.issues, DatasetProtocolOptions));
  const dataset = attempt(() => resolveSection(registry, 'dataset', datasetRest as PluginSection, ['dataset'], file));
  const network = attempt(() => resolveSection(registry, 'network', config.network, ['network'], file));
  const algorithm = attempt(() => resolveSection(registry, 'algorithm', config.algorithm, ['algorithm'], file));
  const quantizer = config.quantizer ? attempt(() => resolveSection(registry, 'quantizer', config.quantizer!, ['quantizer'], file)) : undefined;
  const hooks = config.hooks.map((h, i) => attempt(() => resolveSection(registry, 'hook', h, ['hooks', i], file)));
  const evaluators = config.evaluators.map((h, i) => attempt(() => resolveSection(registry, 'evaluator', h, ['evaluators', i], file)));
  if (problems.length > 0) throw new ConfigError(problems.join('\n'));
  const resolved: ResolvedRunConfig = {
    seed: config.seed,
    trialSeed: config.trialSeed,
    plugins: config.plugins,
    dataset: { ...dataset!, ...proto.data! },
    network: network!,
    algorithm: algorithm!,
    quantizer,
    hooks: hooks as ResolvedSection[],
    evaluators: evaluators as ResolvedSection[],
    train: config.train,
    output: config.output,
  };
  checkStepOptions(resolved, registry, file, opts.warn ?? (() => {}));
  return resolved;
}

/** The plugin sections of a resolved config with their kinds and key paths. */
export function configSections(c: ResolvedRunConfig): Array<{ kind: PluginKind; path: Array<string | number>; section: ResolvedSection }> {
  return [
    { kind: 'dataset' as const, path: ['dataset'], section: c.dataset },
    { kind: 'network' as const, path: ['network'], section: c.network },
    { kind: 'algorithm' as const, path: ['algorithm'], section: c.algorithm },
    ...(c.quantizer ? [{ kind: 'quantizer' as const, path: ['quantizer'], section: c.quantizer }] : []),
    ...c.hooks.map((section, i) => ({ kind: 'hook' as const, path: ['hooks', i], section })),
    ...c.evaluators.map((section, i) => ({ kind: 'evaluator' as const, path: ['evaluators', i], section })),
  ];
}

/**
 * Options that refer to a step (LSQ's startStep) or a number of checkpoints (SWAD's nConverge) must
 * be reached by the run: a run that ends first would silently leave the feature off.
 */
export function checkStepOptions(c: ResolvedRunConfig, registry: PluginRegistry, file: string, warn: (m: string) => void): void {
  const errors: string[] = [];
  for (const { kind, path, section } of configSections(c)) {
    for (const [key, meta] of stepOptionsOf(registry.get(kind, section.type).options)) {
      const value = section.options[key];
      if (typeof value !== 'number') continue;
      const where = `${file}: ${[...path, key].join('.').replace(/\.(\d+)/g, '[$1]')}`;
      const problem = stepOptionProblem(where, value, meta, c.train);
      if (problem === undefined) continue;
      if (meta.severity === 'error') errors.push(problem);
      else warn(`warning: ${problem}`);
    }
  }
  if (errors.length > 0) throw new ConfigError(errors.join('\n'));
}

/** Checks test environment indices once the dataset's environments are known. */
export function checkTestEnvs(testEnvs: number[], environments: readonly string[], datasetName: string, file: string): void {
  testEnvs.forEach((t, i) => {
    if (t >= environments.length) {
      throw new ConfigError(
        `${file}: dataset.testEnvs[${i}]: ${t} is out of range: ${datasetName} has ${environments.length} environments (0..${environments.length - 1}: ${environments.join(', ')})`,
      );
    }
  });
  if (testEnvs.length >= environments.length) {
    throw new ConfigError(`${file}: dataset.testEnvs: at least one environment must be left for training (${datasetName} has ${environments.length})`);
  }
}
