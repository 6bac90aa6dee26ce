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

export function networkGraphWriter(type: string): NetworkGraphWriter {
  if (type === 'TfjsBackbone') {
    throw new ConfigError(
      `export --format onnx: network 'TfjsBackbone' (a TF.js layers model) has no ONNX writer yet: its layers are not translated; export MNIST_CNN, ResNet18 or ResNet50 runs, or the qtdog / tfjs formats`,
    );
  }
  const writer = NETWORK_GRAPHS[type];
  if (!writer) throw new ConfigError(`export --format onnx: no ONNX graph for network '${type}' (known: ${Object.keys(NETWORK_GRAPHS).join(', ')})`);
  return writer;
}
