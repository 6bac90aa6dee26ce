// qtdog's side of the benchmark: runs built through the same container path as `qtdog run`
// (packages/core/src/run/run-experiment.ts), fed random minibatches straight to algorithm.update.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { bindRunComponents, createPluginContainer, DataParallelAlgorithm, loadConfigFile, resolveRunComponents, supportsDataParallel } from '@qtdog/core';
import { BUILTIN_MODULE_PACKAGES, builtinModules } from '@qtdog/cli';
import { selectBackend } from '@qtdog/engine';
import { outSize } from './shapes.mjs';
import { convInputs, disposeConvInputs, runConv } from './conv-inputs.mjs';

/**
 * Builds a run like `qtdog run` does: a config file (JSON is YAML) in a temp folder, the built-in
 * plugin modules, bindRunComponents / resolveRunComponents, and DataParallelAlgorithm for more than
 * one worker when the algorithm supports it.
 *
 * spec: { network: {type, ...options}, input: [h, w, c], classes, batches: [per-domain sizes],
 *         algo: 'ERM' | 'ERM+LSQ' | 'SAM' | 'CORAL', workers,
 *         engine: 'wasm' | 'onednn' (default wasm), threads: oneDNN threads per worker (default 1) }
 */
export async function buildRun(spec, tmpRoot) {
  const engine = spec.engine ?? 'wasm';
  const nativeThreads = spec.threads ?? 1;
  await selectBackend(engine, undefined, { nativeThreads });
  const [h, , c] = spec.input;
  const nTrain = spec.batches.length;
  const lsq = spec.algo === 'ERM+LSQ';
  // ERM+SWAD: ERM with the SWAD hook, whose per-step work (the dense running average) is timed too.
  const swad = spec.algo === 'ERM+SWAD';
  const config = {
    seed: 0,
    trialSeed: 0,
    // Only the environment names, shapes and classes are used: the data is never loaded (the bench
    // feeds its own random minibatches).
    dataset: { type: 'SyntheticDomains', imageSize: h, channels: c, numClasses: spec.classes, numDomains: nTrain + 1, examplesPerDomain: 16, testEnvs: [nTrain] },
    network: spec.network,
    algorithm: { type: lsq || swad ? 'ERM' : spec.algo, lr: 1e-3, batchSize: spec.batches[0], weightDecay: 0 },
    ...(swad ? { hooks: [{ type: 'SWAD' }] } : {}),
    // QT-DoG: 7 bits, one step size per output channel; from step 0 here (the quantized step is timed).
    ...(lsq ? { quantizer: { type: 'LSQ', bits: 7, perChannel: true, startStep: 0 } } : {}),
    train: { steps: 1, backend: engine, workers: spec.workers },
  };
  const dir = mkdtempSync(join(tmpRoot, 'run-'));
  const file = join(dir, 'bench.yaml');
  writeFileSync(file, JSON.stringify(config, null, 2) + '\n');
  const loaded = loadConfigFile(file);
  const { container, registry } = createPluginContainer(builtinModules());
  const resolved = bindRunComponents(container, registry, loaded, dir, () => {});
  const parts = await resolveRunComponents(container, resolved, loaded.file);
  let algorithm = parts.algorithm;
  let dp;
  let note = '';
  if (spec.workers > 1) {
    if (!supportsDataParallel(parts.algorithm)) {
      note = `${parts.algorithm.name} does not support data-parallel training: it runs on 1 thread`;
    } else {
      dp = await DataParallelAlgorithm.create(parts.algorithm, parts.network, { loaded, moduleSpecifiers: BUILTIN_MODULE_PACKAGES, outDir: dir, backend: engine, nativeThreads }, spec.workers);
      algorithm = dp;
    }
  }
  let step = 0;
  return {
    parts,
    algorithm,
    dp,
    note,
    workersUsed: dp ? dp.numWorkers : 1,
    /** One training step as the trainer takes it: quantizer.onStep, algorithm.update, the hooks' afterStep. */
    async step(minibatches) {
      parts.quantizer?.onStep(step, parts.network);
      await algorithm.update(minibatches, step);
      for (const hk of parts.hooks) hk.afterStep?.(step, parts.network);
      step++;
    },
    /** Predicted classes of a batch (logits on all workers when data-parallel, then argMax), read back. */
    async predict(x) {
      const logits = dp ? await dp.predictAsync(x) : algorithm.predict(x);
      const classes = tf.argMax(logits, 1);
      classes.dataSync();
      tf.dispose([logits, classes]);
    },
    workerNumTensors() {
      return dp ? dp.workerNumTensors : undefined;
    },
    dispose() {
      algorithm.dispose?.(); // DataParallelAlgorithm: terminates the workers and disposes the inner algorithm
      parts.quantizer?.dispose?.();
      for (const hk of parts.hooks) hk.dispose?.();
      parts.network.dispose();
    },
  };
}

/** `sets` sets of random minibatches (uniform pixels, random labels), one minibatch per domain. */
export function randomMinibatches(batches, input, classes, sets = 4) {
  const [h, w, c] = input;
  return Array.from({ length: sets }, () =>
    batches.map((n, env) => ({
      x: tf.randomUniform([n, h, w, c], 0, 1, 'float32'),
      y: tf.randomUniform([n], 0, classes, 'int32'),
      env,
    })),
  );
}

export function disposeMinibatches(pool) {
  for (const set of pool) for (const m of set) tf.dispose([m.x, m.y]);
}

/** Wall time (ms) of each of `n` calls of `fn` after `warmup` untimed calls. */
export async function timeCalls(fn, n, warmup) {
  for (let i = 0; i < warmup; i++) await fn(i);
  const out = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(warmup + i);
    out.push(performance.now() - t);
  }
  return out;
}

/**
 * The measured ceiling: this thread's tf.conv2d forward throughput (GFLOP/s) on the network's
 * convolution shapes at `batch` images, padding as the networks pass it. Each distinct shape is timed
 * `reps` times after one warm-up call (XNNPACK builds its operator on the first); the whole network's
 * figure is its forward conv FLOPs over the sum of the shapes' fastest times.
 */
export function convCeiling(convs, batch, reps) {
  const rows = [];
  let flops = 0;
  let ms = 0;
  const inputs = convInputs(convs, batch);
  for (const input of inputs) {
    const s = input.s;
    const times = [];
    for (let i = 0; i < reps + 1; i++) {
      const t = performance.now();
      // The wasm backend runs a kernel synchronously inside the call: no read-back needed (it would
      // add a copy of the output to the conv's time).
      const y = runConv(input);
      const dt = performance.now() - t;
      y.dispose();
      if (i > 0) times.push(dt);
    }
    // The fastest rep: the ceiling is what the kernel can do, and a rep slowed by anything else on
    // the machine would lower it and inflate every efficiency measured against it (a median of 3
    // once gave 12 GFLOP/s at batch 32 between two 30 GFLOP/s measurements).
    const best = Math.min(...times);
    const f = 2 * batch * outSize(s.h, s.k, s.stride, s.pad) * outSize(s.w, s.k, s.stride, s.pad) * s.k * s.k * s.cin * s.cout;
    rows.push({ shape: s, ms: best, gflops: f / best / 1e6 });
    flops += f * s.count;
    ms += best * s.count;
  }
  disposeConvInputs(inputs);
  return { batch, gflops: flops / ms / 1e6, ms, rows };
}

export function median(a) {
  const s = [...a].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
