import { runExperiment } from '@qtdog/core';
import { accuracyTable } from '../accuracy-table.js';
import { evaluatorSummary } from '../evaluator-summary.js';
import { BUILTIN_MODULE_PACKAGES, builtinModules } from '../builtin-modules.js';
import { createProgressReporter, formatDuration } from '../progress.js';

export interface RunCommandOptions {
  out?: string;
  overwrite?: boolean;
}

export async function runCommand(configPath: string, opts: RunCommandOptions): Promise<void> {
  const progress = createProgressReporter();
  const log = (m: string) => process.stderr.write(`${m}\n`);
  let result;
  try {
    result = await runExperiment(configPath, {
      modules: builtinModules(),
      moduleSpecifiers: BUILTIN_MODULE_PACKAGES,
      outDir: opts.out,
      overwrite: opts.overwrite,
      log,
      onProgress: (p) => progress.update(p),
    });
  } finally {
    progress.stop();
  }
  const { best, last, environments, testEnvs, steps } = result;
  const testAcc = (r: Record<string, unknown>) =>
    testEnvs.map((t) => `${environments[t]}: ${(100 * (r[`env${t}_in_acc`] as number)).toFixed(2)}%`).join(', ');
  // Counted as the progress line counts (step k/N = after k steps); results.jsonl numbers steps from 0.
  const at = (r: Record<string, unknown>) => `step ${(r.step as number) + 1}/${steps}`;
  const evaluators = ((last.config as { evaluators?: Array<{ type: string }> } | undefined)?.evaluators ?? []).map((e) => e.type);
  const evaluated = evaluatorSummary(last, evaluators);
  process.stdout.write(
    [
      `Finished in ${formatDuration(result.wallTimeSec)} on ${result.engine} with ${result.workers} worker(s); results in ${result.outDir}`,
      '',
      `Selected checkpoint (training-domain validation): ${at(best)} (results.jsonl step ${best.step as number})`,
      accuracyTable(best, environments, testEnvs),
      `Test environment accuracy (selected): ${testAcc(best)}`,
      `Test environment accuracy (last checkpoint, ${at(last)}): ${testAcc(last)}`,
      ...(evaluated.length > 0 ? ['', `Evaluators (last checkpoint, ${at(last)}):`, ...evaluated.map((l) => `  ${l}`)] : []),
      '',
    ].join('\n'),
  );
}
