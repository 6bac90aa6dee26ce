import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { restoreRun, type RestoreOptions } from '@qtdog/quantizers';
import type { ModelMetadata } from './model-metadata.js';
import { onnxModelOfRun, type OnnxExportOptions } from './onnx-export.js';

export interface OnnxRunExportOptions extends RestoreOptions, OnnxExportOptions {
  /** The .onnx file; default `<run-dir>/export-<checkpoint>[-int8|-float32].onnx`. */
  out?: string;
}

export interface OnnxRunExport {
  file: string;
  bytes: number;
  /** Size of the same model with float32 weights, for the ratio. */
  float32Bytes: number;
  step: number;
  metadata: ModelMetadata;
}

/** `qtdog export --format onnx`: restores a run's checkpoint and writes it as one .onnx file. */
export async function exportOnnxRun(runDir: string, opts: OnnxRunExportOptions): Promise<OnnxRunExport> {
  const run = await restoreRun(runDir, opts);
  try {
    const suffix = opts.weights === 'weight-only' ? '' : `-${opts.weights}`;
    const file = opts.out ?? join(run.runDir, `export-${run.checkpoint}${suffix}.onnx`);
    const model = await onnxModelOfRun(run, opts);
    const float32 = opts.weights === 'float32' ? model : await onnxModelOfRun(run, { weights: 'float32' });
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, model.bytes);
    return { file, bytes: model.bytes.length, float32Bytes: float32.bytes.length, step: run.step, metadata: model.metadata };
  } finally {
    run.dispose();
  }
}
