import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { layers, sequential, type LayersModel } from '@tensorflow/tfjs-layers';
import { DataError } from '@qtdog/core';
import { GroupNormalization, registerQtdogLayers } from '../tfjs/group-norm-layer.js';

/** What a TensorFlow.js layers model is built from: the network plugin, shapes and float weights by parameter name. */
export interface LayersModelSpec {
  network: { type: string; options: Record<string, unknown> };
  inputShape: readonly [number, number, number];
  numClasses: number;
  weights: Record<string, tf.Tensor>;
}

type Builder = (spec: LayersModelSpec) => LayersModel;

function need(spec: LayersModelSpec, name: string): tf.Tensor {
  const t = spec.weights[name];
  if (!t) throw new DataError(`tfjs export of ${spec.network.type}: no weight '${name}'`);
  return t;
}

/**
 * MNIST_CNN as tf.layers: per convolution zero-padding 1 (PyTorch's padding=1; 'same' would pad a
 * stride-2 convolution only at the bottom and right), a valid 3x3 convolution with ReLU, then
 * GroupNorm; global average pooling; a dense classifier. Weights keep TensorFlow's layouts.
 */
const mnistCnn: Builder = (spec) => {
  const groups = Number(spec.network.options.groups ?? 8);
  const strides = [1, 2, 1, 1];
  const model = sequential({ name: 'MNIST_CNN' });
  strides.forEach((stride, i) => {
    const n = i + 1;
    const kernel = need(spec, `featurizer.conv${n}.weight`);
    model.add(layers.zeroPadding2d({ padding: 1, name: `pad${n}`, ...(i === 0 ? { inputShape: [...spec.inputShape] } : {}) }));
    const conv = layers.conv2d({ filters: kernel.shape[3]!, kernelSize: 3, strides: stride, padding: 'valid', activation: 'relu', name: `conv${n}` });
    model.add(conv);
    conv.setWeights([kernel, need(spec, `featurizer.conv${n}.bias`)]);
    const gn = new GroupNormalization({ groups, name: `gn${n}` });
    model.add(gn);
    gn.setWeights([need(spec, `featurizer.gn${n}.gamma`), need(spec, `featurizer.gn${n}.beta`)]);
  });
  model.add(layers.globalAveragePooling2d({ name: 'pool' }));
  const dense = layers.dense({ units: spec.numClasses, name: 'classifier' });
  model.add(dense);
  dense.setWeights([need(spec, 'classifier.weight'), need(spec, 'classifier.bias')]);
  return model;
};

/** Networks the tfjs export knows how to express as tf.layers (by network plugin name). */
export const LAYERS_BUILDERS: Readonly<Record<string, Builder>> = { MNIST_CNN: mnistCnn };

/** The equivalent TensorFlow.js layers model, with the given (dequantized) weights. */
export function toLayersModel(spec: LayersModelSpec): LayersModel {
  const build = LAYERS_BUILDERS[spec.network.type];
  if (!build) {
    throw new DataError(`tfjs export: no tf.layers equivalent of network '${spec.network.type}' (known: ${Object.keys(LAYERS_BUILDERS).join(', ')}); use --format qtdog`);
  }
  registerQtdogLayers();
  return build(spec);
}

/**
 * Writes a layers model as TensorFlow.js's own format: `model.json` (topology and weights manifest)
 * and one binary shard, loadable with `tf.loadLayersModel` over HTTP or from files.
 */
export async function writeLayersModel(model: LayersModel, outDir: string): Promise<Array<{ file: string; bytes: number }>> {
  const shard = 'group1-shard1of1.bin';
  // Without a trailing slash: `--out model/` would otherwise put the temporary folder inside it.
  const dir = outDir.replace(/[\\/]+$/, '') || outDir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let files: Array<{ name: string; bytes: number }> = [];
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
      const json = JSON.stringify({
        format: 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: 'qtdog export',
        modelTopology: artifacts.modelTopology,
        weightsManifest: [{ paths: [shard], weights: artifacts.weightSpecs }],
      });
      writeFileSync(join(tmp, 'model.json'), json);
      writeFileSync(join(tmp, shard), weights);
      files = [
        { name: 'model.json', bytes: Buffer.byteLength(json) },
        { name: shard, bytes: weights.byteLength },
      ];
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    }),
  );
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return files.map((f) => ({ file: join(dir, f.name), bytes: f.bytes }));
}
