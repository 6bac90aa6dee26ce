/** TensorProto.DataType values used here (onnx.proto). */
export const OnnxDataType = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  INT32: 6,
  INT64: 7,
  INT4: 22,
} as const;
export type OnnxDataType = (typeof OnnxDataType)[keyof typeof OnnxDataType];

/** Opset the exporter writes: 21 for int4 DequantizeLinear (and per-axis QDQ). */
export const OPSET = 21;
/** IR version 10 (ONNX 1.16) is the first with INT4 and the one opset 21 requires. */
export const IR_VERSION = 10;

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: OnnxDataType;
  rawData: Uint8Array;
}

/** One attribute value, tagged by its AttributeProto field. */
export type OnnxAttribute = { i: number } | { f: number } | { ints: number[] } | { floats: number[] } | { s: string };

export interface OnnxNode {
  opType: string;
  inputs: string[];
  outputs: string[];
  name?: string;
  attributes?: Record<string, OnnxAttribute>;
}
