import { ConfigError } from '@qtdog/core';
import { selectBackend, type BackendPreference } from '@qtdog/engine';
import { exportRun, readRunConfig, type CheckpointName, type ExportFormatName } from '@qtdog/quantizers';
import { builtinModules } from '../builtin-modules.js';

export interface ExportCommandOptions {
  checkpoint?: string;
  out?: string;
  format?: string;
  float32?: boolean;
  baseDir?: string;
}

export function checkpointOption(value: string | undefined): CheckpointName {
  const v = value ?? 'best';
  if (v !== 'best' && v !== 'last') throw new ConfigError(`--checkpoint must be 'best' or 'last', got '${v}'`);
  return v;
}

const kib = (n: number) => `${(n / 1024).toFixed(1)} KiB`;

/** `qtdog export <run-dir>`: the selected checkpoint as a k-bit qtdog export or a TensorFlow.js layers model. */
export async function exportCommand(runDir: string, opts: ExportCommandOptions): Promise<void> {
  const checkpoint = checkpointOption(opts.checkpoint);
  const format = (opts.format ?? 'qtdog') as ExportFormatName;
  if (format !== 'qtdog' && format !== 'tfjs') throw new ConfigError(`--format must be 'qtdog' or 'tfjs', got '${opts.format}'`);
  if (opts.float32 && format === 'tfjs') throw new ConfigError('--float32 applies to --format qtdog (a tfjs export is always float32)');
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const config = readRunConfig(runDir);
  await selectBackend(config.train.backend as BackendPreference, log);
  const r = await exportRun(runDir, { modules: builtinModules(), checkpoint, out: opts.out, format, float32: opts.float32, baseDir: opts.baseDir, log });
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
