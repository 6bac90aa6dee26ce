import { z } from 'zod';
import { ConfigError } from '../errors.js';
import type { PluginKind } from '../plugins/plugin.js';
import type { PluginRegistry } from '../plugins/registry.js';
import { formatIssues } from './format-issues.js';
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
  const r = strictOf(def.options).safeParse(rest, { reportInput: true });
  if (!r.success) throw new ConfigError(formatIssues(file, path, r.error.issues));
  return { type: section.type, options: r.data as Record<string, unknown> };
}

/** Validates every plugin section; the result is what a run records as its full config. */
export function resolveRunConfig(config: RunConfig, registry: PluginRegistry, file: string): ResolvedRunConfig {
  const { testEnvs, holdoutFraction, ...datasetRest } = config.dataset as PluginSection & Record<string, unknown>;
  const proto = DatasetProtocolOptions.safeParse({ testEnvs, holdoutFraction }, { reportInput: true });
  if (!proto.success) throw new ConfigError(formatIssues(file, ['dataset'], proto.error.issues));
  const dataset = resolveSection(registry, 'dataset', datasetRest as PluginSection, ['dataset'], file);
  return {
    seed: config.seed,
    trialSeed: config.trialSeed,
    plugins: config.plugins,
    dataset: { ...dataset, ...proto.data },
    network: resolveSection(registry, 'network', config.network, ['network'], file),
    algorithm: resolveSection(registry, 'algorithm', config.algorithm, ['algorithm'], file),
    quantizer: config.quantizer ? resolveSection(registry, 'quantizer', config.quantizer, ['quantizer'], file) : undefined,
    hooks: config.hooks.map((h, i) => resolveSection(registry, 'hook', h, ['hooks', i], file)),
    evaluators: config.evaluators.map((h, i) => resolveSection(registry, 'evaluator', h, ['evaluators', i], file)),
    train: config.train,
    output: config.output,
  };
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
