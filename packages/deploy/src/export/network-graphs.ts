import { ConfigError } from '@qtdog/core';
import type { LayerWriter } from './layer-writer.js';
import { writeMnistCnn } from './mnist-cnn-graph.js';
import { writeResNet } from './resnet-graph.js';

/** Writes a network's forward pass from `input` (NCHW); returns the logits tensor's name. */
export type NetworkGraphWriter = (w: LayerWriter, input: string, options: Record<string, unknown>) => string;

/** The networks the ONNX exporter knows, by network plugin name. */
export const NETWORK_GRAPHS: Record<string, NetworkGraphWriter> = {
  MNIST_CNN: writeMnistCnn,
  ResNet18: writeResNet(18),
  ResNet50: writeResNet(50),
};

/**
 * The writer for a network type. TfjsBackbone's TF.js layers are not translated to ONNX yet: the
 * error names the first layer that would need it (pass the network to get its name).
 */
export function networkGraphWriter(type: string, network?: object): NetworkGraphWriter {
  if (type === 'TfjsBackbone') {
    const layers = (network as { featurizerLayers?: Array<{ name: string; className: string }> } | undefined)?.featurizerLayers;
    const first = layers?.find((l) => l.className !== 'InputLayer');
    const layer = first ? `its layer '${first.name}' (${first.className}) has no ONNX translation` : 'its TF.js layers have no ONNX translation';
    throw new ConfigError(
      `export --format onnx: network 'TfjsBackbone' is not supported yet: ${layer} (no TfjsBackbone layer is translated); export MNIST_CNN, ResNet18 or ResNet50 runs, or use the qtdog / tfjs formats`,
    );
  }
  const writer = NETWORK_GRAPHS[type];
  if (!writer) throw new ConfigError(`export --format onnx: no ONNX graph for network '${type}' (known: ${Object.keys(NETWORK_GRAPHS).join(', ')})`);
  return writer;
}
