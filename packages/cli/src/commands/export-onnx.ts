import { ConfigError } from '@qtdog/core';
import { exportOnnxRun, exportWebRun, type CalibrationMethod, type WeightMode } from '@qtdog/deploy';
import type { CheckpointName } from '@qtdog/quantizers';
import { builtinModules } from '../builtin-modules.js';
import type { ExportCommandOptions } from './export.js';

function positiveInt(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new ConfigError(`${flag} must be a positive integer, got '${v}'`);
  return n;
}

/** The weight mode and calibration the flags ask for. */
export function onnxExportMode(opts: ExportCommandOptions): { weights: WeightMode; calibration: { batches: number; batchSize: number; method: CalibrationMethod; percentile: number } } {
  if (opts.int8 && opts.float32) throw new ConfigError('--int8 and --float32 exclude each other');
  const method = (opts.calibration ?? 'percentile') as CalibrationMethod;
  if (method !== 'minmax' && method !== 'percentile') throw new ConfigError(`--calibration must be 'minmax' or 'percentile', got '${opts.calibration}'`);
  const percentile = opts.percentile === undefined ? 99.99 : Number(opts.percentile);
  if (!(percentile > 50 && percentile <= 100)) throw new ConfigError(`--percentile must be in (50, 100], got '${opts.percentile}'`);
  return {
    weights: opts.int8 ? 'int8' : opts.float32 ? 'float32' : 'weight-only',
    calibration: { batches: positiveInt('--calibrate', opts.calibrate, 8), batchSize: 64, method, percentile },
  };
}

/** `qtdog export --format onnx`: one .onnx file with its metadata; prints its size against float32. */
export async function exportOnnxCommand(runDir: string, checkpoint: CheckpointName, format: 'onnx' | 'web', opts: ExportCommandOptions, log: (m: string) => void): Promise<void> {
  const mode = onnxExportMode(opts);
  if (format === 'web') {
    const w = await exportWebRun(runDir, { modules: builtinModules(), checkpoint, baseDir: opts.baseDir, out: opts.out, log, ...mode });
    const lines = [`Exported the '${checkpoint}' checkpoint (step ${w.step}) of ${runDir} as a web page (${mode.weights}) to ${w.dir}`];
    for (const f of w.files) lines.push(`  ${f.file}  ${f.bytes} bytes`);
    lines.push(`Serve it with: qtdog serve ${w.dir}   (COOP/COEP headers, so ONNX Runtime Web can use threads)`, '');
    process.stdout.write(lines.join('\n'));
    return;
  }
  const r = await exportOnnxRun(runDir, { modules: builtinModules(), checkpoint, baseDir: opts.baseDir, out: opts.out, log, ...mode });
  const layers = r.metadata.layers.map((l) => `${l.layer} ${l.bits === 'float32' ? 'float32' : `${l.bits}-bit as ${l.storage}`}`).join(', ');
  process.stdout.write(
    [
      `Exported the '${checkpoint}' checkpoint (step ${r.step}) of ${runDir} as ONNX (${mode.weights}) to ${r.file}`,
      `  ${r.bytes} bytes; the float32 ONNX model: ${r.float32Bytes} bytes (${(r.bytes / r.float32Bytes).toFixed(3)}x)`,
      `  layers: ${layers}`,
      `  activations: ${r.metadata.quantization.activations}`,
      `  classes: ${r.metadata.classNames.join(', ')}; input ${r.metadata.input.layout} ${r.metadata.input.shape.join('x')}`,
      '',
    ].join('\n'),
  );
}
