import { ConfigError } from '@qtdog/core';
import { selectBackend, type BackendPreference } from '@qtdog/engine';
import { exportRun, readRunConfig, type CheckpointName } from '@qtdog/quantizers';
import { checkRunFinished } from '@qtdog/deploy';
import { builtinModules } from '../builtin-modules.js';
import { exportOnnxCommand } from './export-onnx.js';

export interface ExportCommandOptions {
  checkpoint?: string;
  out?: string;
  format?: string;
  float32?: boolean;
  int8?: boolean;
  calibrate?: string;
  calibration?: string;
  percentile?: string;
  baseDir?: string;
  allowUnfinished?: boolean;
}

export const EXPORT_FORMATS = ['qtdog', 'tfjs', 'onnx', 'web'] as const;

export function checkpointOption(value: string | undefined): CheckpointName {
  const v = value ?? 'best';
  if (v !== 'best' && v !== 'last') throw new ConfigError(`--checkpoint must be 'best' or 'last', got '${v}'`);
  return v;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** `qtdog export <run-dir>`: the selected checkpoint as a k-bit qtdog export or a TensorFlow.js layers model. */
export async function exportCommand(runDir: string, opts: ExportCommandOptions): Promise<void> {
  const checkpoint = checkpointOption(opts.checkpoint);
  const format = opts.format ?? 'qtdog';
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) throw new ConfigError(`--format must be one of ${EXPORT_FORMATS.join(', ')}; got '${format}'`);
  if (opts.float32 && format === 'tfjs') throw new ConfigError('--float32 applies to --format qtdog and onnx (a tfjs export is always float32)');
  if ((opts.int8 || opts.calibrate || opts.calibration) && format !== 'onnx' && format !== 'web') throw new ConfigError('--int8, --calibrate and --calibration apply to --format onnx and web');
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const config = readRunConfig(runDir);
  const warning = checkRunFinished(runDir, opts.allowUnfinished ?? false);
  if (warning) log(warning);
  await selectBackend(config.train.backend as BackendPreference, log);
  if (format === 'onnx' || format === 'web') return exportOnnxCommand(runDir, checkpoint, format, opts, log);
  const r = await exportRun(runDir, { modules: builtinModules(), checkpoint, out: opts.out, format: format as 'qtdog' | 'tfjs', float32: opts.float32, baseDir: opts.baseDir, log });
  const lines = [`Exported the '${checkpoint}' checkpoint (step ${r.step}) of ${runDir} as ${format} to ${r.dir}`];
  for (const f of r.files) lines.push(`  ${f.file}  ${f.bytes} bytes`);
  lines.push(`Total ${r.totalBytes} bytes (${kib(r.totalBytes)}); as a float32 export: ${r.float32Bytes} bytes (${kib(r.float32Bytes)}), ratio ${(r.float32Bytes / r.totalBytes).toFixed(2)}x`);
  if (r.packed.length > 0) lines.push(`Packed: ${r.packed.map((p) => `${p.name} (${p.bits} bits)`).join(', ')}`);
  else if (format === 'qtdog' && !opts.float32) {
    lines.push(
      config.quantizer
        ? `No packed weights: the ${config.quantizer.type} quantizer ${r.quantizerActive ? 'keeps weights in float' : `was not active yet at step ${r.step}`}`
        : 'No packed weights: the run has no quantizer',
    );
  }
  process.stdout.write(lines.join('\n') + '\n');
}
