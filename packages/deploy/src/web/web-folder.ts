import { copyFileSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelMetadata } from '../export/model-metadata.js';
import { onnxruntimeWebDist, packageFolder } from './package-files.js';

/** The ONNX Runtime Web files the page loads: the wasm-only ES module, its loader and the SIMD + threads binary. */
export const ORT_WEB_FILES = ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm'];

/**
 * A self-contained static folder: index.html and app.mjs (this package's web/), model.onnx,
 * metadata.json, and onnxruntime-web's files under ort/, copied from the npm package (no CDN).
 */
export function writeWebFolder(dir: string, model: Uint8Array, metadata: ModelMetadata): Array<{ file: string; bytes: number }> {
  mkdirSync(join(dir, 'ort'), { recursive: true });
  const web = packageFolder('web');
  for (const f of ['index.html', 'app.mjs']) copyFileSync(join(web, f), join(dir, f));
  const dist = onnxruntimeWebDist();
  for (const f of ORT_WEB_FILES) copyFileSync(join(dist, f), join(dir, 'ort', f));
  writeFileSync(join(dir, 'model.onnx'), model);
  writeFileSync(join(dir, 'metadata.json'), JSON.stringify(metadata, null, 1) + '\n');
  return ['index.html', 'app.mjs', 'model.onnx', 'metadata.json', ...ORT_WEB_FILES.map((f) => `ort/${f}`)].map((file) => ({ file, bytes: statSync(join(dir, file)).size }));
}
