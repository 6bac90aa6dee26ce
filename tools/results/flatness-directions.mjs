#!/usr/bin/env node
// How many random directions a flatness estimate needs, and which radii make the loss rise clearly:
// runs the flatness evaluator (the very one a sweep runs at the end) on a finished run's checkpoint
// with many directions, and prints per radius the mean loss increase F, its spread over directions
// and the standard error std/sqrt(S) at S = 5, 10, 20, 50 and the S given. Used to choose the
// flatness settings of configs/sweeps/rfmnist-qtdog.yaml from its pilot run.
//   node tools/results/flatness-directions.mjs RUN_DIR [--samples 100] [--radii 1,2,4,8,16,32]
//        [--max-examples 500] [--checkpoint best|last] [--domains all|test]
// --domains test probes the test domains only (a sixth of the cost with 6 domains): for checking
// how many examples the test-domain estimate needs. The probe examples of a larger --max-examples
// include those of a smaller one (a prefix of one seeded permutation), and the directions do not
// depend on it, so runs differing only in --max-examples are paired.
import { parseArgs } from 'node:util';
import { seedHash, splitEnvironment } from '@qtdog/core';
import { selectBackend } from '@qtdog/engine';
import { FlatnessEvaluator, FlatnessOptions } from '@qtdog/evaluation';
import { restoreRun } from '@qtdog/quantizers';
import { builtinModules } from '@qtdog/cli';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { samples: { type: 'string', default: '100' }, radii: { type: 'string', default: '1,2,4,8,16,32' }, 'max-examples': { type: 'string', default: '500' }, checkpoint: { type: 'string', default: 'best' }, domains: { type: 'string', default: 'all' } },
});
const runDir = positionals[0];
if (!runDir) {
  console.error('usage: flatness-directions.mjs RUN_DIR [--samples N] [--radii a,b,...] [--max-examples N] [--checkpoint best|last] [--domains all|test]');
  process.exit(2);
}
if (!['all', 'test'].includes(values.domains)) {
  console.error(`flatness-directions.mjs: --domains must be 'all' or 'test' (got '${values.domains}')`);
  process.exit(2);
}
const testOnly = values.domains === 'test';
const log = (m) => process.stderr.write(`${m}\n`);
await selectBackend('auto', log);
const run = await restoreRun(runDir, { modules: builtinModules(), checkpoint: values.checkpoint, log });
try {
  const envs = await run.dataset.load();
  const cfg = run.config;
  const testEnvs = cfg.dataset.testEnvs;
  const ctx = {
    step: run.step,
    network: run.network,
    quantizer: run.quantizer,
    environments: envs,
    splits: envs.map((e, i) => splitEnvironment(e.size, cfg.dataset.holdoutFraction, cfg.trialSeed, i)),
    trainEnvs: testOnly ? [] : envs.map((_, i) => i).filter((i) => !testEnvs.includes(i)),
    testEnvs,
    inputShape: run.dataset.inputShape,
    evalBatchSize: cfg.train.evalBatchSize,
    outDir: runDir,
    // The trainer's evaluation seed, so directions and probe examples are the run's own.
    seed: seedHash(cfg.trialSeed, 'evaluation', run.step),
  };
  const samples = Number(values.samples);
  const options = FlatnessOptions.parse({ radii: values.radii.split(',').map(Number), samples, maxExamples: Number(values['max-examples']) });
  const t0 = performance.now();
  const r = await new FlatnessEvaluator(options).evaluate(ctx);
  const secs = (performance.now() - t0) / 1000;
  console.log(`${runDir} '${values.checkpoint}' checkpoint (step ${run.step}), ${r.parameters} parameters perturbed, ${samples} directions, ${options.maxExamples} examples per domain${testOnly ? ', test domains only' : ''}`);
  console.log(`base loss: training domains ${r.baseTrainLoss.toFixed(4)}, test domains ${r.baseTestLoss?.toFixed(4)}; ${secs.toFixed(0)} s in all, ${(secs / samples).toFixed(2)} s per direction`);
  console.log(`examples probed per domain: ${Object.entries(r.examples).map(([e, n]) => `${e}: ${n}`).join(', ')}`);
  const counts = [5, 10, 20, 50, samples].filter((s, i, a) => s <= samples && a.indexOf(s) === i);
  for (const side of ['train', 'test']) {
    const f = r[side];
    const sd = r[`${side}Std`];
    if (!f.length || (testOnly && side === 'train')) continue;
    console.log(`\n${side} domains: radius | F mean | std over directions | standard error at S = ${counts.join(', ')}`);
    r.radii.forEach((rad, i) => console.log(`  ${String(rad).padStart(5)} | ${f[i].toPrecision(4).padStart(9)} | ${sd[i].toPrecision(3).padStart(9)} | ${counts.map((s) => (sd[i] / Math.sqrt(s)).toPrecision(2)).join(', ')}`));
  }
} finally {
  run.dispose();
}
