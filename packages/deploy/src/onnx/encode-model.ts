import { onnxType } from './onnx-proto.js';
import type { OnnxGraph, OnnxValueInfo } from './onnx-graph.js';
import { IR_VERSION, OPSET, type OnnxAttribute } from './onnx-types.js';

/** AttributeProto.AttributeType values (onnx.proto). */
const ATTRIBUTE_TYPE = { f: 1, i: 2, s: 3, floats: 6, ints: 7 } as const;

function attribute(name: string, a: OnnxAttribute): Record<string, unknown> {
  if ('s' in a) return { name, type: ATTRIBUTE_TYPE.s, s: new TextEncoder().encode(a.s) };
  const [field] = Object.keys(a) as Array<keyof typeof ATTRIBUTE_TYPE>;
  return { name, type: ATTRIBUTE_TYPE[field!], [field!]: (a as Record<string, unknown>)[field!] };
}

function valueInfo(v: OnnxValueInfo): Record<string, unknown> {
  const shape = v.shape && { dim: v.shape.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) };
  return { name: v.name, type: { tensorType: { elemType: v.dataType, ...(shape ? { shape } : {}) } } };
}

export interface ModelInfo {
  graphName: string;
  producerVersion: string;
  /** metadata_props, in order. */
  metadata: Record<string, string>;
  docString?: string;
}

/** The graph as a serialized ModelProto (opset 21, IR version 10), through protobufjs and onnx.proto. */
export function encodeOnnxModel(graph: OnnxGraph, info: ModelInfo): Uint8Array {
  const ModelProto = onnxType('ModelProto');
  const model = {
    irVersion: IR_VERSION,
    opsetImport: [{ domain: '', version: OPSET }],
    producerName: 'qtdog',
    producerVersion: info.producerVersion,
    docString: info.docString,
    graph: {
      name: info.graphName,
      node: graph.nodes.map((n) => ({
        name: n.name,
        opType: n.opType,
        input: n.inputs,
        output: n.outputs,
        attribute: Object.entries(n.attributes ?? {}).map(([k, a]) => attribute(k, a)),
      })),
      initializer: graph.initializers.map((t) => ({ name: t.name, dims: t.dims, dataType: t.dataType, rawData: t.rawData })),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
    metadataProps: Object.entries(info.metadata).map(([key, value]) => ({ key, value })),
  };
  const err = ModelProto.verify(model);
  if (err) throw new Error(`ONNX model does not match onnx.proto: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(model)).finish();
}
