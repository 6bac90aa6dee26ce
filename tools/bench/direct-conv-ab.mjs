// One-thread training steps with the direct convolution kernel on ('auto', the default) and off
// ('never', XNNPACK for every forward pass and input gradient), alternating step by step, so load
// changes on a shared machine touch both alike. Prints each mode's median step and the ratio.
//
//   npx nx run-many -t build && node tools/bench/direct-conv-ab.mjs [--net resnet18|mnist] [--rounds 6]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, setDirectConvMode } from '@qtdog/engine';
import { buildRun, disposeMinibatches, median, randomMinibatches } from './lib/ours.mjs';
import { arg } from './lib/args.mjs';
import { netFromArgs } from './lib/nets.mjs';

const net = netFromArgs('resnet18');
const rounds = Number(arg('rounds', 6));
const batch = Number(arg('batch', net.batch));

await selectBackend('wasm', () => {});
const tmp = mkdtempSync(join(tmpdir(), 'qtdog-direct-ab-'));
const batches = Array(net.domains).fill(batch);
const run = await buildRun({ network: net.network, input: net.input, classes: net.classes, batches, algo: 'ERM', workers: 1 }, tmp);
const pool = randomMinibatches(batches, net.input, net.classes, 2);
const modes = ['never', 'auto'];
const times = { never: [], auto: [] };
for (const m of modes) {
  setDirectConvMode(m);
  await run.step(pool[0]); // warm-up in each mode
}
const tensors0 = tf.memory().numTensors;
for (let r = 0; r < rounds; r++) {
  for (const m of r % 2 ? [...modes].reverse() : modes) {
    setDirectConvMode(m);
    const t0 = performance.now();
    await run.step(pool[r % 2]);
    times[m].push(performance.now() - t0);
  }
}
setDirectConvMode('auto');
const images = batch * net.domains;
console.log(`ERM, ${net.network.type}, ${net.domains} domains x ${batch} images, 1 thread, wasm; ${rounds} steps per mode, alternating`);
for (const m of modes) console.log(`direct conv ${m.padEnd(5)}: median ${median(times[m]).toFixed(0)} ms per step (${(images / median(times[m]) * 1000).toFixed(1)} img/s); steps ${times[m].map((t) => t.toFixed(0)).join(' ')}`);
console.log(`speedup auto / never: ${(median(times.never) / median(times.auto)).toFixed(2)}x; tensors ${tensors0} -> ${tf.memory().numTensors}; load average ${(await import('node:os')).loadavg().map((v) => v.toFixed(2)).join(' ')}`);
disposeMinibatches(pool);
run.dispose();
rmSync(tmp, { recursive: true, force: true });
