import type { ExportTensor } from '@qtdog/quantizers';
import { OnnxGraph } from '../onnx/onnx-graph.js';
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

/**
 * An ensemble as one graph (EoQ): every member reads `input`, written under `member<i>/`, and
 * `logits` is the ONNX Mean of their logits. Returns the writers (their per-layer records).
 */
export function buildEnsembleGraph(members: readonly ModelGraphSpec[], weights: Exclude<WeightMode, 'int8'>): { g: OnnxGraph; writers: LayerWriter[] } {
  const g = new OnnxGraph();
  const first = members[0]!;
  const [h, wd, c] = first.inputShape;
  const input = g.input('input', OnnxDataType.FLOAT, ['batch', c, h, wd]);
  const writers: LayerWriter[] = [];
  const logits = members.map((spec, i) => {
    g.scope = `member${i}/`;
    const w = new LayerWriter(new Map(spec.tensors.map((t) => [t.name, t])), { weights, activations: { kind: 'float' } }, g);
    writers.push(w);
    return networkGraphWriter(spec.network.type)(w, input, spec.network.options);
  });
  g.scope = '';
  g.node('Mean', logits, 'logits');
  g.outputs.push({ name: 'logits', dataType: OnnxDataType.FLOAT, shape: ['batch', first.numClasses] });
  return { g, writers };
}
