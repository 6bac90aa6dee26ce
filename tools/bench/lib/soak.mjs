// Soak mode (issue 9): ERM on MNIST_CNN for N steps at batch 16 x 5 domains on random data, printing
// the live tensor counts (main thread and workers) and the process's memory every N/20 steps.
// Both must stay flat after the first reports (the wasm heap grows to its working size early on).
import * as tf from '@tensorflow/tfjs-core';
import { buildRun, disposeMinibatches, randomMinibatches } from './ours.mjs';
import { f0, f1 } from './system.mjs';

export async function runSoak({ steps, workers, net, tmpRoot, engine = 'wasm', threads = 1 }) {
  const batches = [16, 16, 16, 16, 16];
  const every = Math.max(1, Math.floor(steps / 20));
  console.log(`soak      ERM, ${net.label}, batch 16 x 5 domains, random data, ${steps} steps, ${workers} worker(s) on ${engine}${engine === 'onednn' ? ` (${threads} oneDNN thread(s) each)` : ''}; a report every ${every} steps\n`);
  const before = tf.memory().numTensors;
  const run = await buildRun({ network: net.network, input: net.input, classes: net.classes, batches, algo: 'ERM', workers, engine, threads }, tmpRoot);
  if (run.note) console.log(`note: ${run.note}`);
  const pool = randomMinibatches(batches, net.input, net.classes, 8);
  const header = ['step', 'ms/step', 'numTensors', 'worker numTensors', 'RSS MB', 'peak RSS MB', 'JS heap MB'];
  const printRow = (cells) => console.log(cells.map((c, i) => String(c).padStart(Math.max(header[i].length, 7))).join('  '));
  console.log(`numTensors counts the bench's own ${pool.length * batches.length * 2} minibatch tensors too; ms/step is the mean since the previous report`);
  printRow(header);
  const reports = [];
  let t0 = performance.now();
  let last = 0;
  try {
    for (let s = 0; s < steps; s++) {
      await run.step(pool[s % pool.length]);
      const n = s + 1;
      if (n % every === 0 || n === steps || n === 1) {
        const now = performance.now();
        const m = process.memoryUsage();
        const rep = {
          step: n,
          msPerStep: (now - t0) / (n - last),
          tensors: tf.memory().numTensors,
          worker: run.workerNumTensors(),
          rss: m.rss / 2 ** 20,
          peak: process.resourceUsage().maxRSS / 1024,
          heap: m.heapUsed / 2 ** 20,
        };
        reports.push(rep);
        printRow([n, f0(rep.msPerStep), rep.tensors, rep.worker ?? '-', f0(rep.rss), f0(rep.peak), f1(rep.heap)]);
        t0 = now;
        last = n;
      }
    }
  } finally {
    disposeMinibatches(pool);
    run.dispose();
  }
  // Compare from the second report on: the first steps build XNNPACK operators, Adam state and grow the heaps.
  const from = reports[Math.min(1, reports.length - 1)];
  const to = reports[reports.length - 1];
  console.log(
    `\nfrom step ${from.step} to ${to.step}: numTensors ${from.tensors} -> ${to.tensors} (${to.tensors - from.tensors >= 0 ? '+' : ''}${to.tensors - from.tensors})` +
      (to.worker !== undefined ? `, worker ${from.worker} -> ${to.worker}` : '') +
      `, RSS ${f0(from.rss)} -> ${f0(to.rss)} MB (${to.rss - from.rss >= 0 ? '+' : ''}${f0(to.rss - from.rss)}), JS heap ${f1(from.heap)} -> ${f1(to.heap)} MB`,
  );
  console.log(`tensors before the run ${before}, after disposing it ${tf.memory().numTensors}`);
}
