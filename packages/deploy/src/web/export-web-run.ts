import { join } from 'node:path';
import { restoreRun, type RestoreOptions } from '@qtdog/quantizers';
import type { ModelMetadata } from '../export/model-metadata.js';
import { onnxModelOfRun, type OnnxExportOptions } from '../export/onnx-export.js';
import { writeWebFolder } from './web-folder.js';

export interface WebRunExportOptions extends RestoreOptions, OnnxExportOptions {
  /** Default `<run-dir>/export-<checkpoint>-web`. */
  out?: string;
}

/** `qtdog export --format web`: the run's ONNX model in a static page folder (see writeWebFolder). */
export async function exportWebRun(runDir: string, opts: WebRunExportOptions): Promise<{ dir: string; files: Array<{ file: string; bytes: number }>; step: number; metadata: ModelMetadata }> {
  const run = await restoreRun(runDir, opts);
  try {
    const dir = opts.out ?? join(run.runDir, `export-${run.checkpoint}-web`);
    const model = await onnxModelOfRun(run, opts);
    return { dir, files: writeWebFolder(dir, model.bytes, model.metadata), step: run.step, metadata: model.metadata };
  } finally {
    run.dispose();
  }
}
