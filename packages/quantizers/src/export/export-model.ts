import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { createPluginContainer, DataError, RunContextToken, RunError, type Network, type Quantizer, type RunContext } from '@qtdog/core';
import { networksModule } from '@qtdog/networks';
import { isIntegerQuantizer } from '../integer-weights.js';
import {
  dequantizeExport,
  encodeExport,
  exportByteSize,
  readExport,
  writeExport,
  type EncodedExport,
  type ExportHeader,
  type ExportManifest,
  type ExportTensor,
} from './export-format.js';
import { restoreRun, type PluginModules, type RestoredRun, type RestoreOptions } from './restore-run.js';
import { toLayersModel, writeLayersModel } from './tfjs-export.js';

/**
 * The tensors of a model as an export holds them: weights the quantizer puts on an integer grid as
 * codes and scales (unless `float32`), every other parameter as float32. A layer weight is taken as
 * the network uses it in evaluation (its weight transform applied with training = false), so a
 * float32 export of a fake-quantized model holds the dequantized weights. Quantizer parameters (step
 * sizes, ranges) are not stored apart: the scales are all a loader needs.
 */
export function modelExportTensors(network: Network, quantizer: Quantizer | undefined, float32 = false): ExportTensor[] {
  if (network.activationTransform) {
    // The formats hold weights only: a loader could not reproduce the quantized activations.
    throw new RunError('export: this model also quantizes its activations (LSQ quantizeActivations), which the export formats do not store yet; evaluate or ensemble the run folder instead');
  }
  const ints = !float32 && isIntegerQuantizer(quantizer) ? quantizer.integerWeights(network) : [];
  const intByWeight = new Map(ints.map((w) => [w.weight, w]));
  const layerByWeight = new Map(network.layers.map((l) => [l.weight, l]));
  const out: ExportTensor[] = [];
  for (const p of network.params.all()) {
    if (p.role === 'quantizer') continue;
    const iw = intByWeight.get(p.name);
    if (iw) {
      out.push({ name: p.name, shape: iw.shape, codes: iw.codes, bits: iw.bits, qn: iw.qn, qp: iw.qp, scaleShape: iw.scaleShape, scales: iw.scales });
      continue;
    }
    const layer = layerByWeight.get(p.name);
    const transform = network.weightTransform;
    const t = layer && transform ? tf.tidy(() => transform(layer, p.variable, false)) : p.variable;
    out.push({ name: p.name, shape: p.variable.shape, values: Float32Array.from(t.dataSync() as Float32Array) });
    if (t !== p.variable) t.dispose();
  }
  return out;
}

export type ExportFormatName = 'qtdog' | 'tfjs';

export interface ExportModelOptions {
  format?: ExportFormatName;
  /** qtdog format: store every weight as float32 (the dequantized values), for size comparisons. */
  float32?: boolean;
}

export interface ExportResult {
  dir: string;
  format: ExportFormatName;
  files: Array<{ file: string; bytes: number }>;
  totalBytes: number;
  /** Size of the same model as a float32 qtdog export (manifest included), computed in memory. */
  float32Bytes: number;
  /** Layers stored as packed integers, and their bits. */
  packed: Array<{ name: string; bits: number }>;
  manifest?: ExportManifest;
}

/** The export header of a restored run. */
export function runExportHeader(run: RestoredRun): ExportHeader {
  return {
    network: run.config.network,
    inputShape: run.dataset.inputShape,
    numClasses: run.dataset.numClasses,
    source: {
      run: run.runDir,
      checkpoint: run.checkpoint,
      step: run.step,
      trainDomainValAcc: run.meta.trainDomainValAcc ?? null,
      dataset: run.config.dataset.type,
      testEnvs: run.config.dataset.testEnvs,
      quantizer: run.config.quantizer ?? null,
      quantizerActive: run.quantizer?.active ?? false,
    },
  };
}

/** Encodes a model in memory (qtdog format). */
export function encodeModel(header: ExportHeader, network: Network, quantizer: Quantizer | undefined, float32 = false): EncodedExport {
  return encodeExport(header, modelExportTensors(network, quantizer, float32));
}

/** Writes a model to `dir` in the qtdog k-bit format or as a TensorFlow.js layers model. */
export async function exportModel(
  header: ExportHeader,
  network: Network,
  quantizer: Quantizer | undefined,
  dir: string,
  opts: ExportModelOptions = {},
): Promise<ExportResult> {
  const format = opts.format ?? 'qtdog';
  const floatExport = encodeModel(header, network, quantizer, true);
  const float32Bytes = exportByteSize(floatExport);
  if (format === 'tfjs') {
    const weights = dequantizeExport(floatExport);
    try {
      const model = toLayersModel({ network: header.network, inputShape: header.inputShape, numClasses: header.numClasses, weights });
      try {
        const files = await writeLayersModel(model, dir);
        return { dir, format, files, totalBytes: files.reduce((a, f) => a + f.bytes, 0), float32Bytes, packed: [] };
      } finally {
        model.dispose();
      }
    } finally {
      tf.dispose(Object.values(weights));
    }
  }
  const encoded = opts.float32 ? floatExport : encodeModel(header, network, quantizer);
  const files = writeExport(dir, encoded);
  const packed = encoded.manifest.tensors.flatMap((t) => (t.dtype === 'int' ? [{ name: t.name, bits: t.bits }] : []));
  return { dir, format, files, totalBytes: files.reduce((a, f) => a + f.bytes, 0), float32Bytes, packed, manifest: encoded.manifest };
}

export interface ExportRunOptions extends RestoreOptions, ExportModelOptions {
  /** Output folder; default `<run-dir>/export-<checkpoint>[-float32|-tfjs]`. */
  out?: string;
}

/** `qtdog export`: restores a run's checkpoint and writes it. */
export async function exportRun(runDir: string, opts: ExportRunOptions): Promise<ExportResult & { step: number; quantizerActive: boolean }> {
  const run = await restoreRun(runDir, opts);
  try {
    const suffix = opts.format === 'tfjs' ? '-tfjs' : opts.float32 ? '-float32' : '';
    const dir = opts.out ?? join(run.runDir, `export-${run.checkpoint}${suffix}`);
    const result = await exportModel(runExportHeader(run), run.network, run.quantizer, dir, opts);
    return { ...result, step: run.step, quantizerActive: run.quantizer?.active ?? false };
  } finally {
    run.dispose();
  }
}

/**
 * Builds a network plugin outside a run: its factory resolves the run context from the container,
 * so the shapes are bound there. The weights it initialises are meant to be overwritten.
 */
export async function buildNetwork(
  modules: PluginModules,
  section: { type: string; options: Record<string, unknown> },
  inputShape: readonly [number, number, number],
  numClasses: number,
): Promise<Network> {
  const { container, registry } = createPluginContainer(modules);
  const run: RunContext = { inputShape, numClasses, environments: [], testEnvs: [], numTrainEnvs: 0, trialSeed: 0, outDir: '' };
  container.bind(RunContextToken).toConstantValue(run);
  const def = registry.get('network', section.type, 'export manifest: network.type');
  const options = def.options.parse(section.options);
  return (await def.create(options, { container, seed: 0, baseDir: process.cwd(), log: () => {} })) as Network;
}

export interface LoadedExport {
  manifest: ExportManifest;
  /** The rebuilt network in full precision, holding the dequantized weights. */
  network: Network;
  dispose(): void;
}

/**
 * Loads a qtdog export: rebuilds its network through the plugin registry (the built-in networks by
 * default; pass `modules` for a network from another package) and puts the dequantized weights in.
 */
export async function loadExportedModel(dir: string, opts: { modules?: PluginModules } = {}): Promise<LoadedExport> {
  const encoded = readExport(dir);
  const { manifest } = encoded;
  const network = await buildNetwork(opts.modules ?? [networksModule], manifest.network, manifest.inputShape, manifest.numClasses);
  const tensors = dequantizeExport(encoded);
  try {
    const names = network.params.all().map((p) => p.name);
    const missing = names.filter((n) => !tensors[n]);
    const extra = Object.keys(tensors).filter((n) => !names.includes(n));
    if (missing.length || extra.length) {
      throw new DataError(`${dir}: the export does not match network ${manifest.network.type}: missing ${missing.join(', ') || 'none'}; unexpected ${extra.join(', ') || 'none'}`);
    }
    for (const p of network.params.all()) p.variable.assign(tensors[p.name]!);
  } catch (e) {
    network.dispose();
    throw e;
  } finally {
    tf.dispose(Object.values(tensors));
  }
  return { manifest, network, dispose: () => network.dispose() };
}
