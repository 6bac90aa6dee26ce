import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError, type Network, type Quantizer } from '@qtdog/core';
import { modelExportTensors, type ExportTensor, type RestoredRun } from '@qtdog/quantizers';
import { encodeOnnxModel } from '../onnx/encode-model.js';
import type { ActivationScale } from './activation-policy.js';
import { calibrateActivations, type CalibrationOptions } from './calibration.js';
import type { WeightMode } from './layer-writer.js';
import { buildModelGraph, type ModelGraphSpec } from './model-graph.js';
import { networkGraphWriter } from './network-graphs.js';
import { metadataProps, modelMetadata, type ModelMetadata } from './model-metadata.js';

export interface OnnxExportOptions {
  weights: WeightMode;
  /** int8 only: how activation scales are found where the run trained none. */
  calibration?: CalibrationOptions;
}

export interface OnnxModel {
  bytes: Uint8Array;
  metadata: ModelMetadata;
}

const PACKAGE_VERSION = (() => {
  try {
    return JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version as string;
  } catch {
    return '0.1.0';
  }
})();

/**
 * The network's parameters as an export holds them. Activation quantization (LSQ on activations)
 * is left out here: the int8 graph carries it as QDQ with the trained step sizes instead.
 */
function exportTensors(network: Network, quantizer: Quantizer | undefined, weights: WeightMode): ExportTensor[] {
  const transform = network.activationTransform;
  if (transform && weights !== 'int8') {
    throw new RunError('export --format onnx: this run also quantizes its activations (LSQ quantizeActivations); export it with --int8, which carries the trained activation step sizes');
  }
  network.activationTransform = null;
  try {
    return modelExportTensors(network, quantizer, weights === 'float32');
  } finally {
    network.activationTransform = transform;
  }
}

/** Activation scales the run trained: the LSQ step size of each activation site (unsigned, zero point 0). */
function trainedActivationScales(run: RestoredRun): Map<string, ActivationScale> {
  const out = new Map<string, ActivationScale>();
  if (!run.network.activationTransform) return out;
  const bits = ((run.config.quantizer?.options as { activationBits?: number } | undefined)?.activationBits ?? 8) as number;
  for (const site of run.network.activationSites ?? []) {
    const name = `${site.name}.lsq_act_step`;
    if (!run.network.params.has(name)) continue;
    const s = (run.network.params.get(name).variable.dataSync() as Float32Array)[0]!;
    if (!(s > 0) || !site.unsigned) continue;
    const qp = 2 ** bits - 1;
    out.set(site.name, { scale: s, zeroPoint: 0, ...(qp < 255 ? { clipMax: qp * s } : {}) });
  }
  return out;
}

/** A restored run's checkpoint as an ONNX model: weight-only, float32, or the full int8 QDQ model. */
export async function onnxModelOfRun(run: RestoredRun, opts: OnnxExportOptions): Promise<OnnxModel> {
  networkGraphWriter(run.config.network.type, run.network); // an unsupported network fails here, naming its layer
  const spec: ModelGraphSpec = {
    network: run.config.network,
    inputShape: run.dataset.inputShape,
    numClasses: run.dataset.numClasses,
    tensors: exportTensors(run.network, run.quantizer, opts.weights),
  };
  let activations = 'float';
  let writer;
  if (opts.weights === 'int8') {
    const cal = opts.calibration ?? { batches: 8, batchSize: 64, method: 'percentile' as const };
    const probe = buildModelGraph(spec, 'int8', { kind: 'probe' });
    const probeBytes = encodeOnnxModel(probe.g, { graphName: 'probe', producerVersion: PACKAGE_VERSION, metadata: {} });
    const calibrated = await calibrateActivations(probeBytes, probe.probes, run.dataset, run.config.dataset.testEnvs, cal);
    const trained = trainedActivationScales(run);
    const scales = new Map([...calibrated, ...trained]);
    const method = cal.method === 'percentile' ? `percentile ${cal.percentile ?? 99.99}` : 'min/max';
    activations = trained.size > 0
      ? `uint8: LSQ step sizes at ${[...trained.keys()].join(', ')}; ${method} on ${cal.batches} training-domain batches of ${cal.batchSize} elsewhere`
      : `uint8, ${method} on ${cal.batches} training-domain batches of ${cal.batchSize}`;
    writer = buildModelGraph(spec, 'int8', { kind: 'qdq', scales });
  } else {
    writer = buildModelGraph(spec, opts.weights, { kind: 'float' });
  }
  const finished = existsSync(join(run.runDir, 'done'));
  const metadata = modelMetadata(run, writer.layers, { weights: opts.weights, activations }, finished);
  const bytes = encodeOnnxModel(writer.g, {
    graphName: `${run.config.network.type} ${run.config.dataset.type}`,
    producerVersion: PACKAGE_VERSION,
    metadata: metadataProps(metadata),
    docString: `qtdog export of ${run.runDir} (${run.checkpoint} checkpoint, step ${run.step})`,
  });
  return { bytes, metadata };
}
