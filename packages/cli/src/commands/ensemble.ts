import { relative } from 'node:path';
import { plainTable } from '../plain-table.js';
import { selectBackend, type BackendPreference } from '@qtdog/engine';
import { ensembleRuns, readRunConfig, type EnvAccuracy } from '@qtdog/quantizers';
import { ConfigError } from '@qtdog/core';
import { exportOnnxEnsemble } from '@qtdog/deploy';
import { builtinModules } from '../builtin-modules.js';
import { checkpointOption } from './export.js';

export interface EnsembleCommandOptions {
  checkpoint?: string;
  json?: boolean;
  baseDir?: string;
  allEnvs?: boolean;
  export?: string;
  out?: string;
  float32?: boolean;
}

/**
 * `qtdog ensemble <run-dir>...`: EoQ, the members' logits averaged, each member and the ensemble
 * evaluated on the whole test environments, with the ensemble's total packed size.
 */
export async function ensembleCommand(runDirs: string[], opts: EnsembleCommandOptions): Promise<void> {
  const checkpoint = checkpointOption(opts.checkpoint);
  if (opts.export !== undefined && opts.export !== 'onnx') throw new ConfigError(`--export must be 'onnx', got '${opts.export}'`);
  const log = (m: string) => process.stderr.write(`${m}\n`);
  const config = readRunConfig(runDirs[0]!);
  await selectBackend(config.train.backend as BackendPreference, log);
  const report = await ensembleRuns(runDirs, { modules: builtinModules(), checkpoint, baseDir: opts.baseDir, allEnvs: opts.allEnvs, log });
  if (opts.export) {
    const weights = opts.float32 ? 'float32' : 'weight-only';
    const r = await exportOnnxEnsemble(runDirs, { modules: builtinModules(), checkpoint, baseDir: opts.baseDir, out: opts.out, weights, log });
    log(`Exported the ensemble of ${runDirs.length} as one ONNX graph (${weights}, mean of the members' logits) to ${r.file}: ${r.bytes} bytes`);
  }
  if (opts.json) {
    process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    return;
  }
  const envs = report.ensemble.accuracy;
  const pct = (a: EnvAccuracy) => `${(100 * a.acc).toFixed(2)}%`;
  const table = plainTable(['model', 'step', 'quantizer', 'size', ...envs.map((e) => `env${e.env} ${e.name}${e.test ? ' (TEST)' : ''}`)]);
  for (const m of report.members) {
    const q = m.quantizer ? `${m.quantizer}${m.bits ? ` ${m.bits}b` : ''}${m.quantizerActive ? '' : ' (off)'}` : '-';
    table.push([relative(process.cwd(), m.run) || '.', String(m.step), q, `${(m.packedBytes / 1024).toFixed(1)} KiB`, ...m.accuracy.map(pct)]);
  }
  table.push([`ensemble of ${report.members.length}`, '', 'mean logits', `${(report.ensemble.packedBytes / 1024).toFixed(1)} KiB`, ...envs.map(pct)]);
  process.stdout.write(
    [
      `EoQ on ${report.dataset}, '${report.checkpoint}' checkpoints, whole environments (in and out splits together)`,
      table.toString(),
      `Ensemble size ${report.ensemble.packedBytes} bytes = ${report.ensemble.sizeVsOneFloatModel.toFixed(2)}x one float32 model (${report.ensemble.float32Bytes} bytes)`,
      '',
    ].join('\n'),
  );
}
