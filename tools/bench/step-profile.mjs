// Where one training step's time goes, kernel by kernel, on the wasm backend: a real qtdog step
// (the network, algorithm and optimizer `qtdog run` builds, through tools/bench/lib/ours.mjs) with
// every registered wasm kernel wrapped in a timer. Kernels that call other kernels (our conv
// gradients call XNNPACK's Conv2D) are charged as a whole to the outer one. "outside kernels" is
// the step's wall time minus all kernel time: tape bookkeeping, JavaScript glue, Adam's scalar
// work, garbage collection.
//
//   npx nx run-many -t build && node tools/bench/step-profile.mjs [--algo ERM|ERM+LSQ|CORAL|SAM]
//       [--net mnist|resnet18] [--batch 32] [--domains 5] [--steps 5] [--engine wasm|onednn] [--threads 1]
//
// --net resnet18: ResNet-18 on 64x64x3 (defaults then: 3 domains x 16, as the bench's lines).
//
// One thread (workers: 1). Figures are per step, the median step's breakdown is not separable, so
// each kernel's time is its mean over the timed steps. Run it on a quiet machine for absolute
// figures; the shares hold up better than the times on a busy one.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { engineDescription, selectBackend } from '@qtdog/engine';
import { buildRun, disposeMinibatches, randomMinibatches } from './lib/ours.mjs';
import { arg } from './lib/args.mjs';
import { netFromArgs } from './lib/nets.mjs';

const net = netFromArgs('mnist');
const algo = arg('algo', 'ERM');
const batch = Number(arg('batch', net.batch));
const domains = Number(arg('domains', net.domains));
const steps = Number(arg('steps', 5));
const engine = arg('engine', 'wasm');
const threads = Number(arg('threads', 1));

await selectBackend(engine, () => {}, { nativeThreads: threads });
const tmp = mkdtempSync(join(tmpdir(), 'qtdog-profile-'));
const run = await buildRun({ network: net.network, input: net.input, classes: net.classes, batches: Array(domains).fill(batch), algo, workers: 1, engine, threads }, tmp);

// Wrap every wasm kernel (after the run is built, so ours are registered and the backend is set).
const totals = new Map();
let depth = 0;
for (const k of tf.getKernelsForBackend('wasm')) {
  const inner = k.kernelFunc;
  tf.unregisterKernel(k.kernelName, 'wasm');
  tf.registerKernel({
    ...k,
    kernelFunc: (args) => {
      if (depth > 0) return inner(args);
      depth++;
      const t0 = performance.now();
      try {
        return inner(args);
      } finally {
        depth--;
        const e = totals.get(k.kernelName) ?? { ms: 0, calls: 0 };
        e.ms += performance.now() - t0;
        e.calls++;
        totals.set(k.kernelName, e);
      }
    },
  });
}

const pool = randomMinibatches(Array(domains).fill(batch), net.input, net.classes, 2);
for (let i = 0; i < 2; i++) await run.step(pool[i % 2]); // warm-up: XNNPACK operators, heap growth
totals.clear();
let wall = 0;
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await run.step(pool[i % 2]);
  wall += performance.now() - t0;
}
const rows = [...totals.entries()].map(([name, e]) => ({ name, ms: e.ms / steps, calls: e.calls / steps })).sort((a, b) => b.ms - a.ms);
const stepMs = wall / steps;
const inKernels = rows.reduce((a, r) => a + r.ms, 0);
console.log(`${algo}, ${net.network.type}, ${domains} domains x ${batch} images, 1 worker, ${engineDescription()}: ${stepMs.toFixed(0)} ms per step (mean of ${steps})`);
console.log(`${'kernel'.padEnd(28)} ${'ms/step'.padStart(8)} ${'share'.padStart(6)} ${'calls'.padStart(6)}`);
for (const r of rows) {
  if (r.ms < 0.05 * stepMs * 0.01) continue;
  console.log(`${r.name.padEnd(28)} ${r.ms.toFixed(1).padStart(8)} ${((100 * r.ms) / stepMs).toFixed(1).padStart(5)}% ${r.calls.toFixed(0).padStart(6)}`);
}
console.log(`${'outside kernels'.padEnd(28)} ${(stepMs - inKernels).toFixed(1).padStart(8)} ${((100 * (stepMs - inKernels)) / stepMs).toFixed(1).padStart(5)}%`);
console.log(`tensors: ${tf.memory().numTensors}; load average ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);
disposeMinibatches(pool);
run.dispose();
rmSync(tmp, { recursive: true, force: true });
