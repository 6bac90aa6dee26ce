import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { DataError } from '@qtdog/core';

/**
 * The IDX format (LeCun's MNIST files; Fashion-MNIST uses the same): a big-endian header
 * `0x00 0x00 <type> <ndims>`, then `ndims` 32-bit big-endian sizes, then the values in row-major
 * order, big-endian. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32, 0x0D float32,
 * 0x0E float64.
 */
export interface IdxArray {
  readonly dims: readonly number[];
  readonly type: IdxType;
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

export type IdxType = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

const TYPES: Record<number, { type: IdxType; bytes: number }> = {
  0x08: { type: 'uint8', bytes: 1 },
  0x09: { type: 'int8', bytes: 1 },
  0x0b: { type: 'int16', bytes: 2 },
  0x0c: { type: 'int32', bytes: 4 },
  0x0d: { type: 'float32', bytes: 4 },
  0x0e: { type: 'float64', bytes: 8 },
};

/** Reads an IDX file, gunzipping it first when it starts with the gzip magic bytes. */
export function readIdxFile(path: string): IdxArray {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new DataError(`IDX file ${path}: ${code === 'ENOENT' ? 'missing file' : `cannot read it (${(e as Error).message})`}`, { cause: e });
  }
  let bytes = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = gunzipSync(raw);
    } catch (e) {
      throw new DataError(`IDX file ${path}: gzip data is corrupt or truncated (${(e as Error).message})`, { cause: e });
    }
  }
  return parseIdx(bytes, path);
}

/** Parses IDX bytes; `path` only names the source in errors. */
export function parseIdx(bytes: Uint8Array, path: string): IdxArray {
  const where = `IDX file ${path}`;
  if (bytes.length < 4) throw new DataError(`${where}: ${bytes.length} bytes, too short for the 4-byte magic number`);
  if (bytes[0] !== 0 || bytes[1] !== 0) {
    const magic = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
    throw new DataError(`${where}: bad magic number 0x${magic} (expected 0x0000 then a type code and a rank; not an IDX file)`);
  }
  const spec = TYPES[bytes[2]!];
  if (!spec) throw new DataError(`${where}: unknown value type code 0x${bytes[2]!.toString(16).padStart(2, '0')} (expected 08, 09, 0b, 0c, 0d or 0e)`);
  const rank = bytes[3]!;
  if (rank === 0) throw new DataError(`${where}: rank 0 in the header (at least one dimension expected)`);
  const headerBytes = 4 + 4 * rank;
  if (bytes.length < headerBytes) {
    throw new DataError(`${where}: truncated header (${bytes.length} bytes; a rank-${rank} header needs ${headerBytes})`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const count = dims.reduce((a, b) => a * b, 1);
  const expected = headerBytes + count * spec.bytes;
  if (bytes.length < expected) {
    throw new DataError(
      `${where}: truncated: the header says ${dims.join('x')} ${spec.type} values (${expected} bytes with the header), the file has ${bytes.length}`,
    );
  }
  if (bytes.length > expected) {
    throw new DataError(`${where}: ${bytes.length - expected} bytes after the ${dims.join('x')} ${spec.type} values the header announces (corrupt file)`);
  }
  return { dims, type: spec.type, data: decodeValues(view, headerBytes, count, spec.type) };
}

function decodeValues(view: DataView, at: number, count: number, type: IdxType): IdxArray['data'] {
  switch (type) {
    case 'uint8':
      return new Uint8Array(view.buffer, view.byteOffset + at, count).slice();
    case 'int8':
      return new Int8Array(view.buffer, view.byteOffset + at, count).slice();
    case 'int16': {
      const out = new Int16Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt16(at + 2 * i, false);
      return out;
    }
    case 'int32': {
      const out = new Int32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getInt32(at + 4 * i, false);
      return out;
    }
    case 'float32': {
      const out = new Float32Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat32(at + 4 * i, false);
      return out;
    }
    case 'float64': {
      const out = new Float64Array(count);
      for (let i = 0; i < count; i++) out[i] = view.getFloat64(at + 8 * i, false);
      return out;
    }
  }
}

/** Encodes an IDX file (tests and tools that write small IDX files). */
export function encodeIdx(dims: readonly number[], values: ArrayLike<number>, type: IdxType = 'uint8'): Buffer {
  const code = Number(Object.entries(TYPES).find(([, s]) => s.type === type)![0]);
  const bytesPer = TYPES[code]!.bytes;
  const count = dims.reduce((a, b) => a * b, 1);
  if (values.length !== count) throw new RangeError(`encodeIdx: ${values.length} values for dims ${dims.join('x')}`);
  const buf = Buffer.alloc(4 + 4 * dims.length + count * bytesPer);
  buf[2] = code;
  buf[3] = dims.length;
  dims.forEach((d, i) => buf.writeUInt32BE(d, 4 + 4 * i));
  const at = 4 + 4 * dims.length;
  for (let i = 0; i < count; i++) {
    const v = values[i]!;
    const o = at + i * bytesPer;
    if (type === 'uint8') buf.writeUInt8(v, o);
    else if (type === 'int8') buf.writeInt8(v, o);
    else if (type === 'int16') buf.writeInt16BE(v, o);
    else if (type === 'int32') buf.writeInt32BE(v, o);
    else if (type === 'float32') buf.writeFloatBE(v, o);
    else buf.writeDoubleBE(v, o);
  }
  return buf;
}
