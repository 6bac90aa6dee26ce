import { ConfigError } from '@qtdog/core';
import type { LayerWriter } from './layer-writer.js';
import { writeMnistCnn } from './mnist-cnn-graph.js';

/** Writes a network's forward pass from `input` (NCHW); returns the logits tensor's name. */
export type NetworkGraphWriter = (w: LayerWriter, input: string, options: Record<string, unknown>) => string;

/** The networks the ONNX exporter knows, by network plugin name. */
export const NETWORK_GRAPHS: Record<string, NetworkGraphWriter> = {
  MNIST_CNN: writeMnistCnn,
};

export function networkGraphWriter(type: string): NetworkGraphWriter {
  const writer = NETWORK_GRAPHS[type];
  if (!writer) throw new ConfigError(`export --format onnx: no ONNX graph for network '${type}' (known: ${Object.keys(NETWORK_GRAPHS).join(', ')})`);
  return writer;
}
