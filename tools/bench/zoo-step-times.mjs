// Time per training step of every registered algorithm, and its ratio to ERM, on the steps of
// issue 4's table: MNIST_CNN at DomainBed's RotatedMNIST step (32 images from each of 5 training
// domains, 28x28x1, 10 classes) and ColoredMNIST step (32 x 2 domains, 28x28x2, 2 classes), one
// thread, the plugins' default hyperparameters (draw 0, as the zoo sweeps run them).
//
// Sweep jobs measure their own step times, but each over a whole run, while whatever else
// the machine did came and went, so one algorithm's run can be slowed and the next one's not.
// Here the algorithms take turns: each round times `--steps` steps of every algorithm in turn, and
// each figure is the median over rounds. A change in the machine's load then touches all rows
// alike, and the ratios to ERM hold up.
//
//   npx nx run-many -t build && node tools/bench/zoo-step-times.mjs [--rounds 3] [--steps 4]
//       [--warmup 2] [--only rmnist|cmnist] [--algos ERM,SAM,...]
//
// Prints a Markdown table per dataset, the machine's load, and numTensors before and after each
// algorithm's timed steps (they must match: no per-step leak).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@qtdog/engine';
import { createPluginContainer } from '@qtdog/core';
import { builtinModules } from '@qtdog/cli';
import { buildRun, disposeMinibatches, median, randomMinibatches, timeCalls } from './lib/ours.mjs';
import { arg } from './lib/args.mjs';
import { gitRevision, load } from './lib/system.mjs';

const rounds = Number(arg('rounds', 3));
const steps = Number(arg('steps', 4)); // even: DANN alternates discriminator and generator steps
const warmup = Number(arg('warmup', 2));
const DATASETS = {
  rmnist: { label: 'RotatedMNIST step (32 x 5 domains, 28x28x1, 10 classes)', input: [28, 28, 1], classes: 10, batches: [32, 32, 32, 32, 32] },
  cmnist: { label: 'ColoredMNIST step (32 x 2 domains, 28x28x2, 2 classes)', input: [28, 28, 2], classes: 2, batches: [32, 32] },
};
const only = arg('only', undefined);
const datasets = only ? [only] : Object.keys(DATASETS);
for (const d of datasets) if (!DATASETS[d]) throw new Error(`--only: one of ${Object.keys(DATASETS).join(', ')}`);

await selectBackend('wasm', () => {});
const { registry } = createPluginContainer(builtinModules());
// ERM+SWAD: ERM wrapped in the SWAD hook (the zoo table's SWAD row).
const algos = arg('algos', undefined)?.split(',') ?? ['ERM', ...registry.names('algorithm').filter((a) => a !== 'ERM').sort(), 'ERM+SWAD'];
const tmp = mkdtempSync(join(tmpdir(), 'qtdog-zoo-times-'));

console.log(`zoo step times  ${new Date().toISOString()}  git ${gitRevision()}  load average at start ${load()}`);
console.log(`protocol: ${rounds} round(s); per round, each algorithm in turn times ${steps} steps; median over rounds; ${warmup} warm-up steps each; 1 thread, wasm`);

for (const id of datasets) {
  const d = DATASETS[id];
  const runs = [];
  for (const algo of algos) {
    const run = await buildRun({ network: { type: 'MNIST_CNN' }, input: d.input, classes: d.classes, batches: d.batches, algo, workers: 1 }, tmp);
    const pool = randomMinibatches(d.batches, d.input, d.classes);
    let k = 0;
    const step = () => run.step(pool[k++ % pool.length]);
    await timeCalls(step, 0, warmup);
    runs.push({ algo, run, pool, step, ms: [], tensors: [] });
  }
  for (let r = 0; r < rounds; r++) {
    for (const x of runs) {
      const before = tf.memory().numTensors;
      const ms = await timeCalls(x.step, steps, 0);
      x.ms.push(ms.reduce((a, b) => a + b, 0) / ms.length);
      x.tensors.push([before, tf.memory().numTensors]);
    }
  }
  const erm = runs.find((x) => x.algo === 'ERM');
  const ermMs = erm ? median(erm.ms) : undefined;
  console.log(`\n${d.label}`);
  console.log('| Algorithm | ms / step | × ERM | range over rounds (ms) | numTensors before -> after |');
  console.log('|:---|---:|---:|---:|---:|');
  for (const x of runs) {
    const m = median(x.ms);
    const t = x.tensors;
    console.log(
      `| ${x.algo} | ${m.toFixed(0)} | ${ermMs ? (m / ermMs).toFixed(2) : '—'} | ${Math.min(...x.ms).toFixed(0)}-${Math.max(...x.ms).toFixed(0)} | ` +
        `${t[0][0]} -> ${t[t.length - 1][1]}${t.every(([a, b]) => a === b) ? '' : ' (changed)'} |`,
    );
  }
  for (const x of runs) {
    disposeMinibatches(x.pool);
    x.run.dispose();
  }
}
console.log(`\nload average at end ${load()}`);
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
