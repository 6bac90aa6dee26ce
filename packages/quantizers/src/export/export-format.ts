import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '@qtdog/core';
import { packedByteLength, packSigned, unpackSigned } from '../bit-pack.js';

/** The k-bit export format (docs/export.md). */
export const EXPORT_FORMAT = 'qtdog-export/1';

/** A tensor stored as little-endian float32. */
export interface FloatEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
  offset: number;
  byteLength: number;
}

/** A quantized weight: signed integers bit-packed at `bits` bits, and float32 scales. */
export interface PackedEntry {
  name: string;
  shape: number[];
  dtype: 'int';
  bits: number;
  qn: number;
  qp: number;
  offset: number;
  byteLength: number;
  /** weight = int * scale, the scale broadcast against the weight (per output channel: [1, 1, 1, cout]). */
  scale: { shape: number[]; offset: number; byteLength: number };
}

export type ExportEntry = FloatEntry | PackedEntry;

export interface ExportManifest {
  format: typeof EXPORT_FORMAT;
  /** The network plugin and its resolved options: the loader builds it through the plugin registry. */
  network: { type: string; options: Record<string, unknown> };
  inputShape: [number, number, number];
  numClasses: number;
  /** Where it came from (run folder, checkpoint, step, quantizer); informational. */
  source: Record<string, unknown>;
  byteLength: number;
  sha256: string;
  tensors: ExportEntry[];
}

/** What goes into an export: float tensors and packed integer weights, in the network's parameter order. */
export type ExportTensor =
  | { name: string; shape: number[]; values: Float32Array }
  | { name: string; shape: number[]; codes: Int32Array; bits: number; qn: number; qp: number; scaleShape: number[]; scales: Float32Array };

export interface ExportHeader {
  network: { type: string; options: Record<string, unknown> };
  inputShape: readonly [number, number, number];
  numClasses: number;
  source: Record<string, unknown>;
}

export interface EncodedExport {
  manifest: ExportManifest;
  bin: Uint8Array;
}

const align4 = (n: number) => (n + 3) & ~3;

/** Lays the tensors out in one binary (every segment starts on a 4-byte boundary) and builds the manifest. */
export function encodeExport(header: ExportHeader, tensors: ExportTensor[]): EncodedExport {
  const chunks: Array<{ offset: number; bytes: Uint8Array }> = [];
  let offset = 0;
  const put = (bytes: Uint8Array) => {
    const at = offset;
    chunks.push({ offset: at, bytes });
    offset = align4(at + bytes.byteLength);
    return { offset: at, byteLength: bytes.byteLength };
  };
  const f32 = (v: Float32Array) => new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  const entries: ExportEntry[] = tensors.map((t) => {
    if ('values' in t) return { name: t.name, shape: t.shape, dtype: 'float32', ...put(f32(t.values)) };
    const packed = put(packSigned(t.codes, t.bits));
    return { name: t.name, shape: t.shape, dtype: 'int', bits: t.bits, qn: t.qn, qp: t.qp, ...packed, scale: { shape: t.scaleShape, ...put(f32(t.scales)) } };
  });
  const bin = new Uint8Array(offset);
  for (const c of chunks) bin.set(c.bytes, c.offset);
  const manifest: ExportManifest = {
    format: EXPORT_FORMAT,
    network: header.network,
    inputShape: [...header.inputShape],
    numClasses: header.numClasses,
    source: header.source,
    byteLength: bin.byteLength,
    sha256: createHash('sha256').update(bin).digest('hex'),
    tensors: entries,
  };
  return { manifest, bin };
}

/** The manifest as written (pretty-printed JSON). */
export function manifestText(manifest: ExportManifest): string {
  return JSON.stringify(manifest, null, 1);
}

/** Bytes on disk of an export: weights.bin plus manifest.json. */
export function exportByteSize(e: EncodedExport): number {
  return e.bin.byteLength + Buffer.byteLength(manifestText(e.manifest));
}

/** Writes `manifest.json` and `weights.bin` into `dir` (through a temporary folder renamed into place). */
export function writeExport(outDir: string, e: EncodedExport): Array<{ file: string; bytes: number }> {
  // Without a trailing slash: `--out model/` would otherwise put the temporary folder inside it.
  const dir = outDir.replace(/[\\/]+$/, '') || outDir;
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const text = manifestText(e.manifest);
  writeFileSync(join(tmp, 'weights.bin'), e.bin);
  writeFileSync(join(tmp, 'manifest.json'), text);
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return [
    { file: join(dir, 'manifest.json'), bytes: Buffer.byteLength(text) },
    { file: join(dir, 'weights.bin'), bytes: e.bin.byteLength },
  ];
}

/** Reads an export folder (checking format, size and SHA-256). */
export function readExport(dir: string): EncodedExport {
  const mPath = join(dir, 'manifest.json');
  if (!existsSync(mPath)) throw new DataError(`${dir} is not a qtdog export (no manifest.json)`);
  let manifest: ExportManifest;
  let bin: Buffer;
  try {
    manifest = JSON.parse(readFileSync(mPath, 'utf8')) as ExportManifest;
    bin = readFileSync(join(dir, 'weights.bin'));
  } catch (e) {
    throw new DataError(`${dir}: cannot read the export (${(e as Error).message})`);
  }
  if (manifest.format !== EXPORT_FORMAT) throw new DataError(`${mPath}: unknown format '${manifest.format}', expected ${EXPORT_FORMAT}`);
  if (bin.byteLength !== manifest.byteLength) {
    throw new DataError(`${dir}/weights.bin: size ${bin.byteLength} bytes, manifest says ${manifest.byteLength} (truncated or corrupt)`);
  }
  if (createHash('sha256').update(bin).digest('hex') !== manifest.sha256) throw new DataError(`${dir}/weights.bin: SHA-256 mismatch (corrupt file)`);
  return { manifest, bin: new Uint8Array(bin.buffer, bin.byteOffset, bin.byteLength) };
}

/** Float32 values of `byteLength` bytes at `offset` (copied: the offset need not be aligned in memory). */
function floatsAt(bin: Uint8Array, offset: number, byteLength: number): Float32Array {
  return new Float32Array(bin.slice(offset, offset + byteLength).buffer);
}

/**
 * Every tensor of an export as float32, quantized weights dequantized as `int * scale` (the same
 * float32 product the fake-quantizing forward pass computes). The caller disposes them.
 */
export function dequantizeExport(e: EncodedExport): Record<string, tf.Tensor> {
  const out: Record<string, tf.Tensor> = {};
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  for (const t of e.manifest.tensors) {
    if (t.dtype === 'float32') {
      out[t.name] = tf.tensor(floatsAt(e.bin, t.offset, t.byteLength), t.shape, 'float32');
      continue;
    }
    const n = size(t.shape);
    if (t.byteLength !== packedByteLength(n, t.bits)) throw new DataError(`export tensor ${t.name}: ${t.byteLength} bytes cannot hold ${n} values of ${t.bits} bits`);
    const codes = unpackSigned(e.bin.subarray(t.offset, t.offset + t.byteLength), t.bits, n);
    const scales = floatsAt(e.bin, t.scale.offset, t.scale.byteLength);
    out[t.name] = tf.tidy(() => tf.mul(tf.tensor(Float32Array.from(codes), t.shape, 'float32'), tf.tensor(scales, t.scale.shape, 'float32')));
  }
  return out;
}
