import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ConfigError } from '@qtdog/core';
import { modelExportTensors, restoreRun, type RestoredRun, type RestoreOptions } from '@qtdog/quantizers';
import { encodeOnnxModel } from '../onnx/encode-model.js';
import { buildEnsembleGraph, type ModelGraphSpec } from './model-graph.js';
import { metadataProps, modelMetadata, type ModelMetadata } from './model-metadata.js';

export interface OnnxEnsembleOptions extends RestoreOptions {
  weights?: 'weight-only' | 'float32';
  /** Default `ensemble.onnx` in the current folder. */
  out?: string;
}

const specOf = (r: RestoredRun, weights: 'weight-only' | 'float32'): ModelGraphSpec => ({
  network: r.config.network,
  inputShape: r.dataset.inputShape,
  numClasses: r.dataset.numClasses,
  tensors: modelExportTensors(r.network, r.quantizer, weights === 'float32'),
});

/** The members' models as one ONNX graph whose logits are the mean of theirs (EoQ). */
export function ensembleOnnxModel(runs: readonly RestoredRun[], weights: 'weight-only' | 'float32' = 'weight-only'): { bytes: Uint8Array; metadata: ModelMetadata } {
  const first = runs[0];
  if (!first) throw new ConfigError('ensemble --export onnx: give at least one run folder');
  const key = (r: RestoredRun) => JSON.stringify([r.config.dataset.type, r.config.dataset.testEnvs, r.dataset.inputShape, r.dataset.numClasses]);
  const odd = runs.find((r) => key(r) !== key(first));
  if (odd) throw new ConfigError(`ensemble members must share the dataset, test environments and shapes: ${odd.runDir} differs from ${first.runDir}`);
  const { g, writers } = buildEnsembleGraph(runs.map((r) => specOf(r, weights)), weights);
  const layers = writers.flatMap((w, i) => w.layers.map((l) => ({ ...l, layer: `member${i}/${l.layer}` })));
  const members = runs.map((r) => modelMetadata(r, [], { weights, activations: 'float' }, existsSync(join(r.runDir, 'done'))).source);
  const metadata: ModelMetadata = { ...modelMetadata(first, layers, { weights, activations: 'float' }, members[0]!.finished), ensemble: members };
  const bytes = encodeOnnxModel(g, {
    graphName: `EoQ ensemble of ${runs.length}`,
    producerVersion: '0.1.0',
    metadata: metadataProps(metadata),
    docString: `mean of the logits of ${runs.map((r) => r.runDir).join(', ')}`,
  });
  return { bytes, metadata };
}

/** `qtdog ensemble <runs...> --export onnx`: restores the members and writes the one-graph ensemble. */
export async function exportOnnxEnsemble(runDirs: string[], opts: OnnxEnsembleOptions): Promise<{ file: string; bytes: number; metadata: ModelMetadata }> {
  const runs: RestoredRun[] = [];
  try {
    for (const d of runDirs) runs.push(await restoreRun(d, opts));
    const model = ensembleOnnxModel(runs, opts.weights ?? 'weight-only');
    const file = opts.out ?? 'ensemble.onnx';
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, model.bytes);
    return { file, bytes: model.bytes.length, metadata: model.metadata };
  } finally {
    for (const r of runs) r.dispose();
  }
}
