import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { DataError } from '@qtdog/core';

type WeightsManifest = Array<{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }>;

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2, complex64: 8 };

/** Bytes one weight takes in a shard (quantized weights take their stored dtype's size). */
function specBytes(w: tf.io.WeightsManifestEntry): number {
  const n = w.shape.reduce((a, b) => a * b, 1);
  const dtype = w.quantization?.dtype ?? w.dtype;
  const size = BYTES[dtype];
  if (size === undefined) throw new DataError(`weight '${w.name}' has dtype '${dtype}', which this reader does not know`);
  return n * size;
}

/** `path` itself when it is a file, else `path/model.json`. */
export function modelJsonPath(path: string): string {
  try {
    return statSync(path).isDirectory() ? join(path, 'model.json') : path;
  } catch {
    return path;
  }
}

/**
 * A TensorFlow.js IOHandler over the local file system, for Node without tfjs-node (whose file://
 * handler is the usual way): `load` reads `model.json` (TensorFlow.js layers-model format) and its
 * weight shards, checking that every shard exists and that their sizes add up to the manifest;
 * `save` writes `model.json` and one `weights.bin`.
 */
export function fileSystemIOHandler(path: string): tf.io.IOHandler {
  const jsonPath = modelJsonPath(resolve(path));
  return {
    async load(): Promise<tf.io.ModelArtifacts> {
      let json: { modelTopology?: unknown; weightsManifest?: WeightsManifest; format?: string; generatedBy?: string; convertedBy?: string | null; trainingConfig?: unknown; userDefinedMetadata?: unknown };
      try {
        json = JSON.parse(readFileSync(jsonPath, 'utf8'));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new DataError(`${jsonPath}: ${code === 'ENOENT' ? 'missing file (expected a TensorFlow.js model.json)' : `cannot read it (${(e as Error).message})`}`, { cause: e });
      }
      if (!json.modelTopology || !Array.isArray(json.weightsManifest)) {
        throw new DataError(`${jsonPath}: not a TensorFlow.js layers model (needs "modelTopology" and "weightsManifest")`);
      }
      const dir = dirname(jsonPath);
      const specs: tf.io.WeightsManifestEntry[] = [];
      const buffers: Buffer[] = [];
      for (const group of json.weightsManifest) {
        const groupSpecs = group.weights ?? [];
        const want = groupSpecs.reduce((s, w) => s + specBytes(w), 0);
        let have = 0;
        for (const shard of group.paths ?? []) {
          const p = join(dir, shard);
          let buf: Buffer;
          try {
            buf = readFileSync(p);
          } catch (e) {
            throw new DataError(`${jsonPath}: weight shard ${p} is missing or unreadable (${(e as Error).message})`, { cause: e });
          }
          buffers.push(buf);
          have += buf.byteLength;
        }
        if (have !== want) {
          throw new DataError(
            `${jsonPath}: the shards ${(group.paths ?? []).join(', ')} hold ${have} bytes, the manifest's weights need ${want} (truncated or mismatched files)`,
          );
        }
        specs.push(...groupSpecs);
      }
      const all = Buffer.concat(buffers);
      return {
        modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
        weightSpecs: specs,
        weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        trainingConfig: json.trainingConfig as tf.io.ModelArtifacts['trainingConfig'],
        userDefinedMetadata: json.userDefinedMetadata as tf.io.ModelArtifacts['userDefinedMetadata'],
      };
    },

    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      const data = artifacts.weightData;
      const bytes = data === undefined ? Buffer.alloc(0) : Array.isArray(data) ? Buffer.concat(data.map((b) => Buffer.from(b))) : Buffer.from(data);
      mkdirSync(dirname(jsonPath), { recursive: true });
      writeFileSync(join(dirname(jsonPath), 'weights.bin'), bytes);
      const json = {
        modelTopology: artifacts.modelTopology,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.trainingConfig ? { trainingConfig: artifacts.trainingConfig } : {}),
      };
      writeFileSync(jsonPath, JSON.stringify(json));
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}
