import { onnxType } from './onnx-proto.js';

/** What a reader needs of a model file without running it: its metadata_props and opset. */
export interface OnnxModelSummary {
  metadata: Record<string, string>;
  opset: number;
  producer: string;
  nodeCount: number;
  opTypes: string[];
  /** (name, data type) of every initializer. */
  initializers: Array<{ name: string; dataType: number; dims: number[] }>;
}

/** Decodes a ModelProto's header; throws protobufjs's error on bytes that are not one. */
export function decodeOnnxModel(bytes: Uint8Array): OnnxModelSummary {
  const ModelProto = onnxType('ModelProto');
  const m = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number, defaults: true }) as {
    metadataProps: Array<{ key: string; value: string }>;
    opsetImport: Array<{ domain: string; version: number }>;
    producerName: string;
    graph?: { node: Array<{ opType: string }>; initializer: Array<{ name: string; dataType: number; dims: number[] }> };
  };
  if (!m.graph || m.graph.node.length === 0) throw new Error('no graph in the file');
  return {
    metadata: Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value])),
    opset: m.opsetImport.find((o) => o.domain === '')?.version ?? 0,
    producer: m.producerName,
    nodeCount: m.graph.node.length,
    opTypes: [...new Set(m.graph.node.map((n) => n.opType))],
    initializers: m.graph.initializer.map((t) => ({ name: t.name, dataType: t.dataType, dims: t.dims })),
  };
}
