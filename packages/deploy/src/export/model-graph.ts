import type { ExportTensor } from '@qtdog/quantizers';
import { OnnxDataType } from '../onnx/onnx-types.js';
import type { ActivationPolicy } from './activation-policy.js';
import { LayerWriter, type WeightMode } from './layer-writer.js';
import { networkGraphWriter } from './network-graphs.js';

export interface ModelGraphSpec {
  network: { type: string; options: Record<string, unknown> };
  /** [height, width, channels], as the network was built. */
  inputShape: readonly [number, number, number];
  numClasses: number;
  tensors: readonly ExportTensor[];
}

/** The whole classifier graph: `input` [batch, c, h, w] float32 -> `logits` [batch, numClasses]. */
export function buildModelGraph(spec: ModelGraphSpec, weights: WeightMode, activations: ActivationPolicy): LayerWriter {
  const w = new LayerWriter(new Map(spec.tensors.map((t) => [t.name, t])), { weights, activations });
  const [h, wd, c] = spec.inputShape;
  const input = w.g.input('input', OnnxDataType.FLOAT, ['batch', c, h, wd]);
  const out = networkGraphWriter(spec.network.type)(w, input, spec.network.options);
  w.g.node('Identity', [out], 'logits');
  w.g.outputs.unshift({ name: 'logits', dataType: OnnxDataType.FLOAT, shape: ['batch', spec.numClasses] });
  return w;
}
