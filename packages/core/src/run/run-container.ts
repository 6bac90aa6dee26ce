import { Container, type ContainerModule } from 'inversify';
import type { Algorithm } from '../api/algorithm.js';
import type { DomainDataset } from '../api/dataset.js';
import type { TrainingHook } from '../api/hook.js';
import type { Evaluator } from '../api/evaluator.js';
import type { Network } from '../api/network.js';
import type { Quantizer } from '../api/quantizer.js';
import type { RunContext } from '../api/run-context.js';
import { checkTestEnvs, resolveRunConfig, type ResolvedRunConfig, type ResolvedSection } from '../config/resolve-config.js';
import type { LoadedConfig } from '../config/load-config.js';
import { absolutePathOptions } from '../config/path-options.js';
import { ConfigError, PluginError, isQtdogError } from '../errors.js';
import { seedHash } from '../math/rng.js';
import type { PluginDefinition, PluginKind } from '../plugins/plugin.js';
import type { PluginContext } from '../plugins/plugin-context.js';
import { PluginRegistry } from '../plugins/registry.js';
import {
  AlgorithmToken,
  DatasetToken,
  EvaluatorsToken,
  HooksToken,
  NetworkToken,
  PluginContribution,
  PluginRegistryToken,
  QuantizerToken,
  RunConfigToken,
  RunContextToken,
} from '../tokens.js';

/** A container holding the given modules and the registry built from their contributions. */
export function createPluginContainer(modules: ContainerModule[]): { container: Container; registry: PluginRegistry } {
  const container = new Container();
  container.load(...modules);
  const defs = container.isBound(PluginContribution) ? container.getAll<PluginDefinition>(PluginContribution) : [];
  const registry = new PluginRegistry(defs);
  container.bind(PluginRegistryToken).toConstantValue(registry);
  return { container, registry };
}

export interface RunComponents {
  config: ResolvedRunConfig;
  dataset: DomainDataset;
  network: Network;
  algorithm: Algorithm;
  quantizer?: Quantizer;
  hooks: TrainingHook[];
  evaluators: Evaluator[];
}

/**
 * Binds the run's tokens to the plugins its config names. The trainer only ever sees tokens: which
 * algorithm, quantizer or hooks are used is decided here, from the config.
 */
export function bindRunComponents(
  container: Container,
  registry: PluginRegistry,
  loaded: LoadedConfig,
  outDir: string,
  log: (m: string) => void,
): ResolvedRunConfig {
  const config = resolveRunConfig(loaded.config, registry, loaded.file, { warn: log });
  const make = (kind: PluginKind, section: ResolvedSection, index = 0) => {
    const def = registry.get(kind, section.type);
    const ctx: PluginContext = {
      container,
      seed: seedHash(config.trialSeed, kind, section.type, index),
      baseDir: loaded.baseDir,
      log,
    };
    // Built once and cached here rather than with inversify's singleton scope: inversify 6 leaves a
    // failed async singleton as an unhandled rejection, which the wasm backend turns into a crash.
    let built: Promise<unknown> | undefined;
    return () => {
      built ??= (async () => {
        try {
          // Path options arrive absolute, resolved against the config file that wrote them.
          return await def.create(absolutePathOptions(def.options, section.options, loaded.baseDir), ctx);
        } catch (e) {
          // A plugin's own config complaint gets the file name, like every other config error.
          if (e instanceof ConfigError && !e.message.startsWith(loaded.file)) throw new ConfigError(`${loaded.file}: ${e.message}`, { cause: e });
          if (isQtdogError(e)) throw e;
          throw new PluginError(`${kind} '${section.type}' failed to build: ${(e as Error).message}`, { cause: e });
        }
      })();
      return built;
    };
  };
  container.bind(RunConfigToken).toConstantValue(config);
  container.bind(DatasetToken).toDynamicValue(make('dataset', config.dataset));
  let runContext: Promise<RunContext> | undefined;
  container.bind(RunContextToken).toDynamicValue(() => {
    runContext ??= container.getAsync<DomainDataset>(DatasetToken).then((ds) => ({
      inputShape: ds.inputShape,
      numClasses: ds.numClasses,
      environments: ds.environments,
      testEnvs: config.dataset.testEnvs,
      numTrainEnvs: ds.environments.length - config.dataset.testEnvs.length,
      trialSeed: config.trialSeed,
      outDir,
    }));
    return runContext;
  });
  container.bind(NetworkToken).toDynamicValue(make('network', config.network));
  container.bind(AlgorithmToken).toDynamicValue(make('algorithm', config.algorithm));
  if (config.quantizer) container.bind(QuantizerToken).toDynamicValue(make('quantizer', config.quantizer));
  const hookMakers = config.hooks.map((h, i) => make('hook', h, i));
  container.bind(HooksToken).toDynamicValue(() => Promise.all(hookMakers.map((m) => m())));
  const evaluatorMakers = config.evaluators.map((e, i) => make('evaluator', e, i));
  container.bind(EvaluatorsToken).toDynamicValue(() => Promise.all(evaluatorMakers.map((m) => m())));
  return config;
}

export async function resolveRunComponents(container: Container, config: ResolvedRunConfig, file: string): Promise<RunComponents> {
  const dataset = await container.getAsync<DomainDataset>(DatasetToken);
  const ctx = await container.getAsync<RunContext>(RunContextToken);
  // Checked again by the trainer; failing before the network is built gives a cleaner error.
  checkTestEnvs(config.dataset.testEnvs, ctx.environments, dataset.name, file);
  return {
    config,
    dataset,
    network: await container.getAsync<Network>(NetworkToken),
    algorithm: await container.getAsync<Algorithm>(AlgorithmToken),
    quantizer: container.isBound(QuantizerToken) ? await container.getAsync<Quantizer>(QuantizerToken) : undefined,
    hooks: await container.getAsync<TrainingHook[]>(HooksToken),
    evaluators: await container.getAsync<Evaluator[]>(EvaluatorsToken),
  };
}
