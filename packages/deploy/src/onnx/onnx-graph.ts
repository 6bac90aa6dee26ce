import { OnnxDataType, type OnnxAttribute, type OnnxNode, type OnnxTensor } from './onnx-types.js';

export interface OnnxValueInfo {
  name: string;
  dataType: OnnxDataType;
  /** A string is a symbolic dimension (the batch size); undefined: unknown rank. */
  shape?: Array<number | string>;
}

/** Raw little-endian bytes of typed values (what TensorProto.raw_data holds). */
function bytesOf(values: Float32Array | Int32Array | Int8Array | Uint8Array | BigInt64Array): Uint8Array {
  return new Uint8Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

/**
 * Signed 4-bit values packed two per byte, the first in the low nibble (onnx.proto: INT4 raw data
 * "packed tightly", element 0 in the 4 least significant bits).
 */
export function packInt4(values: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(values.length / 2));
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < -8 || v > 7 || !Number.isInteger(v)) throw new RangeError(`int4 value out of range: ${v}`);
    out[i >> 1]! |= (v & 0x0f) << ((i & 1) * 4);
  }
  return out;
}

/**
 * A graph under construction: initializers, nodes in topological order, the graph's inputs and
 * outputs. Names are made unique by a counter, so callers can reuse a readable stem.
 */
export class OnnxGraph {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private readonly used = new Set<string>();
  /** Prefix of every name made from now on (an ensemble writes each member under `member<i>/`). */
  scope = '';

  /** `stem`, or `stem_2`, `stem_3`... if taken (within the current scope). */
  uniqueName(stem: string): string {
    stem = `${this.scope}${stem}`;
    let name = stem;
    for (let i = 2; this.used.has(name); i++) name = `${stem}_${i}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dataType: OnnxDataType, shape: Array<number | string>): string {
    this.used.add(name);
    this.inputs.push({ name, dataType, shape });
    return name;
  }

  output(name: string, dataType: OnnxDataType, shape?: Array<number | string>): void {
    this.outputs.push({ name, dataType, shape });
  }

  /** A constant tensor; returns its name. */
  constant(stem: string, dims: number[], dataType: OnnxDataType, rawData: Uint8Array): string {
    const name = this.uniqueName(stem);
    this.initializers.push({ name, dims, dataType, rawData });
    return name;
  }

  float(stem: string, dims: number[], values: ArrayLike<number>): string {
    return this.constant(stem, dims, OnnxDataType.FLOAT, bytesOf(Float32Array.from(values)));
  }

  int8(stem: string, dims: number[], values: ArrayLike<number>): string {
    return this.constant(stem, dims, OnnxDataType.INT8, bytesOf(Int8Array.from(values)));
  }

  uint8(stem: string, dims: number[], values: ArrayLike<number>): string {
    return this.constant(stem, dims, OnnxDataType.UINT8, bytesOf(Uint8Array.from(values)));
  }

  int4(stem: string, dims: number[], values: ArrayLike<number>): string {
    return this.constant(stem, dims, OnnxDataType.INT4, packInt4(values));
  }

  int32(stem: string, dims: number[], values: ArrayLike<number>): string {
    return this.constant(stem, dims, OnnxDataType.INT32, bytesOf(Int32Array.from(values)));
  }

  int64(stem: string, dims: number[], values: ArrayLike<number>): string {
    return this.constant(stem, dims, OnnxDataType.INT64, bytesOf(BigInt64Array.from(Array.from(values, (v) => BigInt(v)))));
  }

  /** Adds a node with one output named after `stem`; returns that output's name. */
  node(opType: string, inputs: string[], stem: string, attributes?: Record<string, OnnxAttribute>): string {
    const out = this.uniqueName(stem);
    this.nodes.push({ opType, inputs, outputs: [out], name: this.uniqueName(`${stem}/${opType}`), attributes });
    return out;
  }
}
