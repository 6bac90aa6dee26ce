import { tmpdir } from 'node:os';
import {
  bindRunComponents,
  createPluginContainer,
  DatasetToken,
  loadConfigFile,
  loadPluginModules,
  splitEnvironment,
  type DomainDataset,
  type ResolvedRunConfig,
} from '@qtdog/core';
import type { PluginModules } from '@qtdog/quantizers';
import { ModelInputError } from '../runtime/model-input-error.js';
import type { QtdogModel } from '../runtime/qtdog-model.js';
import { argmaxRows, nhwcToNchw } from '../runtime/tensor-layout.js';

export interface SplitAccuracy {
  env: number;
  name: string;
  test: boolean;
  inAcc: number;
  outAcc: number;
  n: number;
}

/** The dataset a config file describes, built through the plugin registry as a run builds it. */
export async function datasetOfConfig(configFile: string, modules: PluginModules): Promise<{ dataset: DomainDataset; config: ResolvedRunConfig }> {
  const loaded = loadConfigFile(configFile);
  const extra = await loadPluginModules(loaded.config.plugins, loaded.baseDir, loaded.file);
  const { container, registry } = createPluginContainer([...modules, ...extra]);
  const config = bindRunComponents(container, registry, loaded, tmpdir(), () => {});
  return { dataset: await container.getAsync<DomainDataset>(DatasetToken), config };
}

/**
 * Accuracy of an exported model on every environment's in and out splits, with the splits the
 * trainer draws from the config's trial seed (DomainBed's `env<i>_in_acc` / `env<i>_out_acc`), so
 * the numbers compare with the trained run's results.jsonl.
 */
export async function evaluateOnnxModel(model: QtdogModel, dataset: DomainDataset, config: ResolvedRunConfig, batchSize = 128): Promise<SplitAccuracy[]> {
  const [h, w, c] = dataset.inputShape;
  const [mc, mh, mw] = model.metadata.input.shape;
  if (mc !== c || mh !== h || mw !== w || model.metadata.classNames.length !== dataset.numClasses) {
    throw new ModelInputError(
      `${model.file} takes ${mh}x${mw}x${mc} inputs with ${model.metadata.classNames.length} classes; ${dataset.name} has ${h}x${w}x${c} with ${dataset.numClasses}`,
    );
  }
  const envs = await dataset.load();
  const out: SplitAccuracy[] = [];
  for (const [e, env] of envs.entries()) {
    const split = splitEnvironment(env.size, config.dataset.holdoutFraction, config.trialSeed, e);
    const acc = async (indices: Int32Array) => {
      let correct = 0;
      for (let start = 0; start < indices.length; start += batchSize) {
        const batch = await env.read(indices.subarray(start, start + batchSize), 'eval');
        const logits = await model.logits(nhwcToNchw(batch.x, batch.n, h, w, c), batch.n);
        argmaxRows(logits, dataset.numClasses).forEach((p, i) => (correct += p === batch.y[i] ? 1 : 0));
      }
      return indices.length ? correct / indices.length : 0;
    };
    out.push({ env: e, name: env.name, test: config.dataset.testEnvs.includes(e), inAcc: await acc(split.in), outAcc: await acc(split.out), n: env.size });
  }
  return out;
}
