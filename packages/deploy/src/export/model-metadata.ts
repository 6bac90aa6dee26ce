import type { EvalPreprocessing } from '@qtdog/core';
import type { RestoredRun } from '@qtdog/quantizers';
import type { LayerRecord } from './layer-writer.js';

/** What an exported model says about itself (metadata_props `qtdog.*`, and metadata.json of a web folder). */
export interface ModelMetadata {
  format: 'qtdog-onnx/1';
  classNames: string[];
  /** The graph input: NCHW float32, batch dimension free. */
  input: { name: string; shape: [number, number, number]; layout: 'NCHW'; dtype: 'float32' };
  /** The evaluation transform (EvalPreprocessing in @qtdog/core). */
  preprocessing: EvalPreprocessing;
  domains: { dataset: string; environments: string[]; train: string[]; test: string[] };
  /** Weights: 'float32', 'weight-only' (integer codes dequantized in the graph) or 'int8' (integer QDQ model). */
  quantization: { weights: string; activations: string };
  layers: LayerRecord[];
  source: { run: string; checkpoint: string; step: number; finished: boolean; trainDomainValAcc: number | null; algorithm: string; quantizer: unknown };
  /** An ensemble's members (its logits are their mean); `source` is the first member. */
  ensemble?: Array<ModelMetadata['source']>;
}

/** metadata_props keys, one JSON value each, so a reader can pick what it needs. */
const KEYS: Array<keyof ModelMetadata> = ['format', 'classNames', 'input', 'preprocessing', 'domains', 'quantization', 'layers', 'source', 'ensemble'];

export function modelMetadata(run: RestoredRun, layers: LayerRecord[], quantization: ModelMetadata['quantization'], finished: boolean): ModelMetadata {
  const [h, w, c] = run.dataset.inputShape;
  const envs = [...run.dataset.environments];
  const test = run.config.dataset.testEnvs.map((i) => envs[i]!);
  const pre = run.dataset.preprocessing ?? { size: [h, w] as [number, number], resize: false, channels: c, mean: new Array(c).fill(0), std: new Array(c).fill(1) };
  return {
    format: 'qtdog-onnx/1',
    classNames: [...(run.dataset.classNames ?? Array.from({ length: run.dataset.numClasses }, (_, i) => `class ${i}`))],
    input: { name: 'input', shape: [c, h, w], layout: 'NCHW', dtype: 'float32' },
    preprocessing: pre,
    domains: { dataset: run.config.dataset.type, environments: envs, train: envs.filter((e) => !test.includes(e)), test },
    quantization,
    layers,
    source: {
      run: run.runDir,
      checkpoint: run.checkpoint,
      step: run.step,
      finished,
      trainDomainValAcc: (run.meta.trainDomainValAcc as number | undefined) ?? null,
      algorithm: run.config.algorithm.type,
      quantizer: run.config.quantizer ?? null,
    },
  };
}

/** As metadata_props: `qtdog.<key>` -> JSON. */
export function metadataProps(m: ModelMetadata): Record<string, string> {
  return Object.fromEntries(KEYS.filter((k) => m[k] !== undefined).map((k) => [`qtdog.${k}`, JSON.stringify(m[k])]));
}

/** Back from metadata_props; undefined when the model was not written by qtdog. */
export function parseMetadataProps(props: Record<string, string>): ModelMetadata | undefined {
  if (!props['qtdog.format']) return undefined;
  return Object.fromEntries(KEYS.filter((k) => props[`qtdog.${k}`] !== undefined).map((k) => [k, JSON.parse(props[`qtdog.${k}`]!)])) as unknown as ModelMetadata;
}
