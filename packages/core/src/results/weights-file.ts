import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '../errors.js';

/**
 * The qtdog weights format (docs/formats.md): a folder with `weights.bin` (every tensor's float32
 * or int32 little-endian values, concatenated) and `manifest.json` naming each tensor's shape, dtype
 * and byte range, plus the size and SHA-256 of the binary so a torn or corrupt file is detected.
 */
export const WEIGHTS_FORMAT = 'qtdog-weights/1';

export interface WeightsEntry {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  offset: number;
  byteLength: number;
}

export interface WeightsManifest {
  format: typeof WEIGHTS_FORMAT;
  byteLength: number;
  sha256: string;
  tensors: WeightsEntry[];
  /** Anything the writer wants to keep beside the tensors (step, metrics, JSON state). */
  meta: Record<string, unknown>;
}

/** Writes atomically: into `<dir>.tmp-<pid>`, then renamed over `dir`. */
export function saveWeights(dir: string, tensors: Record<string, tf.Tensor>, meta: Record<string, unknown> = {}): WeightsManifest {
  const entries: WeightsEntry[] = [];
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    const dtype = t.dtype === 'int32' ? 'int32' : 'float32';
    const values = dtype === 'int32' ? Int32Array.from(t.dataSync() as Int32Array) : Float32Array.from(t.dataSync() as Float32Array);
    const bytes = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
    entries.push({ name, shape: t.shape, dtype, offset, byteLength: bytes.byteLength });
    chunks.push(bytes);
    offset += bytes.byteLength;
  }
  const bin = Buffer.concat(chunks);
  const manifest: WeightsManifest = {
    format: WEIGHTS_FORMAT,
    byteLength: bin.byteLength,
    sha256: createHash('sha256').update(bin).digest('hex'),
    tensors: entries,
    meta,
  };
  const tmp = `${dir}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  writeFileSync(join(tmp, 'weights.bin'), bin);
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
  // rename cannot replace a non-empty folder: the current one becomes `<dir>.prev` (kept as the
  // previous checkpoint), then the new one takes its place. A crash at any point leaves `dir` or
  // `<dir>.prev` whole.
  const prev = `${dir}.prev`;
  if (existsSync(dir)) {
    rmSync(prev, { recursive: true, force: true });
    renameSync(dir, prev);
  }
  renameSync(tmp, dir);
  return manifest;
}

/** Reads a weights folder, checking size and hash; returns tensors the caller must dispose. */
export function loadWeights(dir: string): { tensors: Record<string, tf.Tensor>; manifest: WeightsManifest } {
  let manifest: WeightsManifest;
  let bin: Buffer;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as WeightsManifest;
    bin = readFileSync(join(dir, 'weights.bin'));
  } catch (e) {
    throw new DataError(`${dir}: cannot read weights (${(e as Error).message})`);
  }
  if (manifest.format !== WEIGHTS_FORMAT) throw new DataError(`${dir}/manifest.json: unknown format '${manifest.format}', expected ${WEIGHTS_FORMAT}`);
  if (bin.byteLength !== manifest.byteLength) {
    throw new DataError(`${dir}/weights.bin: size ${bin.byteLength} bytes, manifest says ${manifest.byteLength} (truncated or corrupt)`);
  }
  const hash = createHash('sha256').update(bin).digest('hex');
  if (hash !== manifest.sha256) throw new DataError(`${dir}/weights.bin: SHA-256 mismatch (corrupt file)`);
  const tensors: Record<string, tf.Tensor> = {};
  for (const e of manifest.tensors) {
    const slice = bin.buffer.slice(bin.byteOffset + e.offset, bin.byteOffset + e.offset + e.byteLength);
    const values = e.dtype === 'int32' ? new Int32Array(slice) : new Float32Array(slice);
    tensors[e.name] = tf.tensor(values, e.shape, e.dtype);
  }
  return { tensors, manifest };
}
