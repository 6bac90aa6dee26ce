// Where a data-parallel training step's time goes: the main thread's own gradient pass, the wait for
// the workers' gradients (plus summing them), the optimizer update, and what is left (slicing the
// batch, sending weights). Run it with 1 worker and the same per-worker batch beside it to see what
// the second thread costs: on a 2-core machine the difference is the data-parallel overhead.
//
//   npx nx run-many -t build && node tools/bench/data-parallel-phases.mjs [--net mnist|resnet18]
//       [--workers 2] [--algo ERM] [--batch 32] [--domains 5] [--steps 8]
//
// MNIST_CNN on random 28x28 images, or ResNet-18 on 64x64x3 (defaults then: 3 domains x 16, as the
// bench's resnet18 lines), built as `qtdog run` builds it (tools/bench/lib/ours.mjs).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { selectBackend } from '@qtdog/engine';
import { buildRun, disposeMinibatches, randomMinibatches } from './lib/ours.mjs';
import { arg } from './lib/args.mjs';
import { netFromArgs } from './lib/nets.mjs';

const net = netFromArgs('mnist');
const workers = Number(arg('workers', 2));
const algo = arg('algo', 'ERM');
const batch = Number(arg('batch', net.batch));
const domains = Number(arg('domains', net.domains));
const steps = Number(arg('steps', 8));

await selectBackend('wasm', () => {});
const tmp = mkdtempSync(join(tmpdir(), 'qtdog-dp-phases-'));
const batches = Array(domains).fill(batch);
const run = await buildRun({ network: net.network, input: net.input, classes: net.classes, batches, algo, workers }, tmp);
if (run.note) console.log(run.note);

// The inner algorithm's two halves, timed; DataParallelAlgorithm calls computeGradients for the
// main thread's part and applyGradients once the workers' gradients are summed.
const inner = run.parts.algorithm;
if (!inner.computeGradients || !inner.applyGradients) throw new Error(`${algo} has no computeGradients/applyGradients`);
const t = { own: 0, wait: 0, apply: 0, total: 0 };
let ownStart = 0;
let ownEnd = 0;
const compute = inner.computeGradients.bind(inner);
const apply = inner.applyGradients.bind(inner);
inner.computeGradients = (m, s) => {
  ownStart = performance.now();
  const r = compute(m, s);
  ownEnd = performance.now();
  t.own += ownEnd - ownStart;
  return r;
};
inner.applyGradients = (g, s) => {
  const t0 = performance.now();
  t.wait += t0 - ownEnd;
  const r = apply(g, s);
  t.apply += performance.now() - t0;
  return r;
};

const pool = randomMinibatches(batches, net.input, net.classes);
for (let i = 0; i < 2; i++) await run.step(pool[i % pool.length]); // warm-up: operators, Adam state
Object.assign(t, { own: 0, wait: 0, apply: 0 });
// The workers' own timings (protocol.ts WorkerTimings), summed over workers and steps.
const wt = { params: 0, grads: 0, pack: 0 };
const mt = { wait: 0, sum: 0 };
// When the workers start and end their requests, against the main thread's own pass (epoch ms).
const lag = { start: 0, end: 0 };
const epoch = (v) => performance.timeOrigin + v;
const t0 = performance.now();
for (let i = 0; i < steps; i++) {
  await run.step(pool[i % pool.length]);
  for (const w of run.dp?.lastWorkerTimings ?? []) {
    for (const k of Object.keys(wt)) wt[k] += w[k];
    lag.start += w.start - epoch(ownStart);
    lag.end += w.end - epoch(ownEnd);
  }
  if (run.dp) for (const k of Object.keys(mt)) mt[k] += run.dp.lastMergeTimings[k];
}
t.total = performance.now() - t0;

const ms = (v) => `${(v / steps).toFixed(0)} ms`;
console.log(
  `${net.network.type} ${algo}, ${run.workersUsed} worker(s), ${domains} x ${batch} images per step, mean of ${steps} steps: ` +
    `step ${ms(t.total)} | main thread's gradients ${ms(t.own)} | waiting for workers + summing ${ms(t.wait)} | ` +
    `optimizer ${ms(t.apply)} | rest ${ms(t.total - t.own - t.wait - t.apply)}`,
);
if (run.dp) {
  const per = (v) => `${(v / steps / (run.workersUsed - 1)).toFixed(0)} ms`;
  console.log(
    `  each worker (mean): reading weights ${per(wt.params)} | its gradients ${per(wt.grads)} | writing gradients and buffers ${per(wt.pack)}`,
  );
  console.log(
    `  after its own gradients, the main thread: waits for the workers' replies ${ms(mt.wait)} | sums the gradients and buffers ${ms(mt.sum)}`,
  );
  console.log(
    `  a worker takes its request ${per(lag.start)} after the main thread starts its own gradients (negative: before), and replies ${per(lag.end)} after it ends them`,
  );
}
disposeMinibatches(pool);
run.dispose();
rmSync(tmp, { recursive: true, force: true });
process.exit(0);
