#!/usr/bin/env node
// qtdog's benchmark against PyTorch on the same machine (issue 7): `npm run bench`.
// Not a test: it prints figures and has no pass/fail. docs/benchmarks.md explains every line.
//
//   npm run bench                         all lines, 3 reps each (takes a while: use a quiet machine)
//   npm run bench -- --quick              1 rep, 2 steps per line: for development and sanity checks
//   npm run bench -- --only mnist64.erm   lines whose id starts with or contains a pattern (comma list)
//   npm run bench -- --list               the line ids
//   npm run bench -- --no-torch           without the PyTorch side
//   npm run bench -- --soak 10000         ERM on MNIST_CNN for N steps: numTensors and RSS every N/20
//   npm run bench -- --engine wasm        only the wasm lines (or onednn: only the native lines)
//
// Every training and evaluation line runs on pure wasm and, where @qtdog/engine-onednn loads, on
// the native oneDNN kernels: `.onednn.t1` (1 worker, 1 oneDNN thread), `.onednn.t2` (1 worker,
// 2 oneDNN threads) and `.onednn.w2` (2 data-parallel workers, 1 oneDNN thread each). PyTorch runs
// on as many threads as the line uses in all.
//
// It imports the BUILT packages: run `npx nx run-many -t build --output-style=static` after changes.
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@qtdog/engine';
import { oneDnnAvailable } from './lib/native.mjs';
import { measureImagePipeline, writeImageTree } from '@qtdog/datasets';
import { buildRun, convCeiling, disposeMinibatches, median, randomMinibatches, timeCalls } from './lib/ours.mjs';
import { forwardFlops, mnistCnnConvs, resnet18Convs, TRAIN_MULTIPLIER } from './lib/shapes.mjs';
import { cpuInfo, f0, f1, f2, gitRevision, load, packageVersion, rssMB, staleBuilds, table } from './lib/system.mjs';
import { DEFAULT_PYTHON, startTorch } from './lib/torch-child.mjs';
import { runSoak } from './lib/soak.mjs';
import { ConvLoad } from './lib/conv-load.mjs';

// ------------------------------------------------------------------ options

const USAGE = `usage: npm run bench -- [--quick] [--only <ids>] [--list] [--no-torch] [--reps N] [--steps N]
                        [--soak N [--workers K] [--engine E]] [--engine wasm|onednn] [--python PATH]`;

function parseArgs(argv) {
  const o = { quick: false, only: [], list: false, torch: true, reps: undefined, steps: undefined, soak: undefined, workers: undefined, python: DEFAULT_PYTHON, engine: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value\n${USAGE}`);
      return v;
    };
    const int = () => {
      const v = Number(value());
      if (!Number.isInteger(v) || v < 1) throw new Error(`${a} needs a positive integer\n${USAGE}`);
      return v;
    };
    if (a === '--quick') o.quick = true;
    else if (a === '--only') o.only.push(...value().split(',').map((s) => s.trim()).filter(Boolean));
    else if (a === '--list') o.list = true;
    else if (a === '--no-torch') o.torch = false;
    else if (a === '--reps') o.reps = int();
    else if (a === '--steps') o.steps = int();
    else if (a === '--soak') o.soak = int();
    else if (a === '--workers') o.workers = int();
    else if (a === '--python') o.python = value();
    else if (a === '--engine') {
      o.engine = value();
      if (!['wasm', 'onednn'].includes(o.engine)) throw new Error(`--engine takes wasm or onednn\n${USAGE}`);
    }
    else if (a === '--help' || a === '-h') o.help = true;
    else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

// ------------------------------------------------------------------ what is measured

const NETS = {
  mnist: { label: 'MNIST_CNN', network: { type: 'MNIST_CNN' }, torchNet: 'mnist_cnn', input: [28, 28, 1], classes: 10, convs: mnistCnnConvs(1) },
  resnet18: { label: 'ResNet-18', network: { type: 'ResNet18' }, torchNet: 'resnet18', input: [64, 64, 3], classes: 7, convs: resnet18Convs(64, 3) },
};

const ALGO_IDS = { ERM: 'erm', 'ERM+LSQ': 'lsq', SAM: 'sam', CORAL: 'coral' };

// Each wasm line's native variants: [id suffix, workers, oneDNN threads per worker].
const NATIVE_VARIANTS = [
  ['onednn.t1', 1, 1],
  ['onednn.t2', 1, 2],
  ['onednn.w2', 2, 1],
];

/** The wasm lines and, after each training or evaluation line of 1 worker, its oneDNN variants. */
function withNativeVariants(lines) {
  const out = [];
  for (const l of lines) {
    out.push({ ...l, engine: 'wasm', threads: 1 });
    if (l.kind === 'pipeline' || l.workers !== 1) continue;
    const base = l.id.replace(/\.w1$/, '');
    for (const [suffix, workers, threads] of NATIVE_VARIANTS) out.push({ ...l, id: `${base}.${suffix}`, engine: 'onednn', workers, threads });
  }
  return out;
}

function defineLines() {
  return withNativeVariants(wasmLines());
}

function wasmLines() {
  const lines = [];
  const mnistConfigs = [
    { id: 'mnist64', batches: [64], label: 'batch 64 (1 domain)' },
    { id: 'mnist32x5', batches: [32, 32, 32, 32, 32], label: 'batch 32 x 5 domains' },
  ];
  for (const cfg of mnistConfigs) {
    for (const algo of ['ERM', 'ERM+LSQ', 'SAM', 'CORAL']) {
      for (const workers of [1, 2]) {
        lines.push({ id: `${cfg.id}.${ALGO_IDS[algo]}.w${workers}`, kind: 'train', net: NETS.mnist, batches: cfg.batches, cfgLabel: cfg.label, algo, workers });
      }
    }
  }
  for (const workers of [1, 2]) lines.push({ id: `mnist.eval.w${workers}`, kind: 'eval', net: NETS.mnist, batch: 500, workers, algo: 'ERM' });
  for (const workers of [1, 2]) {
    lines.push({ id: `resnet18.erm.w${workers}`, kind: 'train', net: NETS.resnet18, batches: [16, 16, 16], cfgLabel: 'batch 16 x 3 domains', algo: 'ERM', workers });
  }
  lines.push({ id: 'resnet18.pipeline', kind: 'pipeline', net: NETS.resnet18, batches: [16, 16, 16] });
  return lines;
}

function selected(lines, only, engine) {
  if (engine) lines = lines.filter((l) => l.kind === 'pipeline' || l.engine === engine);
  if (only.length === 0) return lines;
  const out = lines.filter((l) => only.some((p) => l.id.startsWith(p) || l.id.includes(p)));
  if (out.length === 0) throw new Error(`--only ${only.join(',')} matches no line; --list shows the ids`);
  return out;
}

// ------------------------------------------------------------------ the run

const ALL = defineLines();
let opts;
let lines;
try {
  opts = parseArgs(process.argv.slice(2));
  lines = selected(ALL, opts.only, opts.engine);
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
if (opts.list) {
  for (const l of ALL) console.log(l.id);
  process.exit(0);
}

const P = opts.quick
  ? { reps: 1, warmup: 1, steps: 2, resnetSteps: 1, evalBatches: 1, ceilingReps: 1, pipelineBatches: 2 }
  : { reps: 3, warmup: 2, steps: 5, resnetSteps: 3, evalBatches: 2, ceilingReps: 3, pipelineBatches: 10 };
if (opts.reps) P.reps = opts.reps;
if (opts.steps) P.steps = P.resnetSteps = P.evalBatches = P.pipelineBatches = opts.steps;

const tmpRoot = mkdtempSync(join(tmpdir(), 'qtdog-bench-'));
const backendLog = [];
const backend = await selectBackend('wasm', (m) => backendLog.push(m));
const native = await oneDnnAvailable();
if (!native.enabled) {
  const dropped = lines.filter((l) => l.engine === 'onednn').length;
  lines = lines.filter((l) => l.engine !== 'onednn');
  backendLog.push(`oneDNN lines skipped (${dropped}): ${native.reason}`);
}

// Header.
const cpu = cpuInfo();
console.log(`qtdog bench  ${new Date().toISOString()}${opts.soak ? `  soak ${opts.soak} steps` : opts.quick ? '  QUICK MODE (1 rep, few steps: sanity figures only)' : ''}`);
console.log(`machine   ${cpu.model}, ${cpu.physical ?? '?'} cores, ${cpu.logical} logical CPUs; load average at start ${load()}`);
console.log(`versions  Node ${process.version}, TensorFlow.js ${tf.version_core} (tfjs-backend-wasm ${packageVersion('@tensorflow/tfjs-backend-wasm')}), backend ${backend}${native.enabled ? `, oneDNN ${native.version} (@qtdog/engine-onednn)` : ''}${backendLog.length ? ` [${backendLog.join('; ')}]` : ''}`);
console.log(`code      git ${gitRevision()}`);
const stale = staleBuilds();
if (stale.length) console.log(`WARNING   dist older than src in: ${stale.join(', ')}; run npx nx run-many -t build --output-style=static`);

if (opts.soak) {
  const soakWorkers = opts.workers ?? availableParallelism();
  const soakEngine = opts.engine ?? (native.enabled ? 'onednn' : 'wasm');
  const soakThreads = Math.max(1, Math.floor(availableParallelism() / soakWorkers));
  await runSoak({ steps: opts.soak, workers: soakWorkers, net: NETS.mnist, tmpRoot, engine: soakEngine, threads: soakThreads });
  rmSync(tmpRoot, { recursive: true, force: true });
  process.exit(0);
}

let torch = null;
if (opts.torch) {
  const t = await startTorch(opts.python);
  if (t.child) {
    torch = t.child;
    console.log(`          PyTorch ${t.hello.torch} (Python ${t.hello.python}, ${opts.python}; its default threads: ${t.hello.max_threads})`);
  } else {
    console.log(`PyTorch   not available (${t.reason}); run \`sudo sh tools/bench/setup.sh\` (Debian python3-torch). Going on without it.`);
  }
} else {
  console.log('PyTorch   skipped (--no-torch)');
}
console.log(
  `protocol  per line: ${torch ? 'ours and PyTorch alternate' : 'ours only'}, ${P.reps} rep(s) each${torch ? ' (ours, torch, ours, torch, ...)' : ''}; a rep is ${P.steps} timed steps ` +
    `(ResNet-18 ${P.resnetSteps}, evaluation ${P.evalBatches} batches) after ${P.warmup} warm-up (ResNet-18: 1); figures are the median over reps.`,
);
if (torch) console.log('          ours with k workers is compared with PyTorch on k threads (torch.set_num_threads).');

const results = new Map();
const ceilings = new Map();

/**
 * The conv ceiling of `net` at `batch` images per worker, shape by shape and beside PyTorch's, printed once
 * per network and batch. The efficiencies use ceilingRep's figures, measured again after every rep.
 */
async function ceilingFor(net, batch, line) {
  const key = `${line.engine}:${line.threads}:${net.label}:${batch}`;
  if (ceilings.has(key)) return ceilings.get(key);
  const c = convCeiling(net.convs, batch, P.ceilingReps);
  let torchConv;
  if (torch) {
    try {
      const shapes = c.rows.map((r) => ({ n: batch, h: r.shape.h, w: r.shape.w, cin: r.shape.cin, cout: r.shape.cout, k: r.shape.k, stride: r.shape.stride, pad: r.shape.pad }));
      const ans = await torch.request({ cmd: 'conv', threads: 1, reps: P.ceilingReps, shapes });
      torchConv = c.rows.map((r, i) => (r.gflops * r.ms) / ans.ms[i]);
      const tf_ = c.rows.reduce((a, r) => a + r.gflops * r.ms * r.shape.count, 0);
      const tms = ans.ms.reduce((a, m, i) => a + m * c.rows[i].shape.count, 0);
      c.torchGflops = tf_ / tms;
    } catch (e) {
      console.log(`  (PyTorch conv timing failed: ${e.message})`);
    }
  }
  console.log(`\n-- ceiling (${line.engine === 'onednn' ? `oneDNN, ${line.threads} thread(s)` : 'wasm'}): ${net.label} Conv2D forward alone (tf.conv2d, this thread), batch ${batch} per worker: ${f1(c.gflops)} GFLOP/s${c.torchGflops ? `; PyTorch conv2d, 1 thread: ${f1(c.torchGflops)} GFLOP/s` : ''}`);
  if (net === NETS.mnist || c.rows.length <= 4) {
    c.rows.forEach((r, i) => {
      const s = r.shape;
      console.log(`   ${s.h}x${s.w}x${s.cin} -> ${s.cout}, ${s.k}x${s.k}/${s.stride}: ${f1(r.ms)} ms ${f1(r.gflops)} GFLOP/s${torchConv ? `  (PyTorch ${f1(torchConv[i])})` : ''}`);
    });
  }
  ceilings.set(key, c);
  return c;
}

const loaders = new Map();

/**
 * One rep's ceilings, measured right after the rep's own steps so that both see the machine at the
 * same speed (it drifts by up to 40% within minutes): this thread's conv speed alone, and with
 * `threads` > 1 while threads - 1 other threads run the same convolutions (conv-load.mjs). The
 * second is what k data-parallel threads can reach at best when they share the machine's caches
 * and memory bandwidth; the first, times k, is the ceiling the issue defines.
 */
async function ceilingRep(net, batch, threads, line) {
  const solo = convCeiling(net.convs, batch, P.ceilingReps).gflops;
  // The loaded ceiling's other threads run wasm convolutions: it means nothing for oneDNN lines.
  if (threads < 2 || line.engine === 'onednn') return { solo, busy: solo };
  if (!loaders.has(threads - 1)) loaders.set(threads - 1, new ConvLoad(threads - 1));
  const busy = (await loaders.get(threads - 1).run(net.convs, batch, () => convCeiling(net.convs, batch, P.ceilingReps))).gflops;
  return { solo, busy };
}

/** Step FLOPs over a rep's time, against that rep's two ceilings; the line's figures are medians. */
function efficiencies(r, flops, workers) {
  const eff = r.ours.map((ms, i) => flops / ms / 1e6 / (r.ceil[i].solo * workers));
  const effBusy = r.ours.map((ms, i) => flops / ms / 1e6 / (r.ceil[i].busy * workers));
  r.ceilingPerWorker = median(r.ceil.map((c) => c.solo));
  r.busyPerWorker = median(r.ceil.map((c) => c.busy));
  r.ceiling = r.ceilingPerWorker * workers;
  r.busyCeiling = r.busyPerWorker * workers;
  r.efficiency = median(eff);
  r.busyEfficiency = median(effBusy);
}

function ceilingNote(r, workers) {
  const busy = workers > 1 ? `; both threads busy: ${workers} x ${f1(r.busyPerWorker)} = ${f1(r.busyCeiling)}, efficiency ${f2(r.busyEfficiency)}` : '';
  return `ceiling ${f1(r.ceiling)} (${workers} x ${f1(r.ceilingPerWorker)} alone): efficiency ${f2(r.efficiency)}${busy}`;
}

function tensorsNote(t) {
  const w = t.workerWarm !== undefined ? `; worker ${t.workerWarm} -> ${t.workerEnd}` : '';
  const own = t.own ? ` (${t.own} of them the bench's inputs)` : '';
  return `tensors before ${t.before}, after warm-up ${t.warm}${own}, after timed steps ${t.end}, after dispose ${t.after}${w}`;
}

function memNote(torchRss) {
  const m = rssMB();
  return `peak RSS ours ${f0(m.peak)} MB (now ${f0(m.now)}), PyTorch ${torchRss ? f0(torchRss / 1024) + ' MB' : '-'}`;
}

async function trainLine(line) {
  const net = line.net;
  const images = line.batches.reduce((a, b) => a + b, 0);
  const steps = net === NETS.resnet18 ? P.resnetSteps : P.steps;
  const warmup = net === NETS.resnet18 ? 1 : P.warmup;
  const before = tf.memory().numTensors;
  const run = await buildRun({ network: net.network, input: net.input, classes: net.classes, batches: line.batches, algo: line.algo, workers: line.workers, engine: line.engine, threads: line.threads }, tmpRoot);
  const pool = randomMinibatches(line.batches, net.input, net.classes);
  let k = 0;
  const step = () => run.step(pool[k++ % pool.length]);
  const r = { line, images, workersUsed: run.workersUsed, note: run.note, ours: [], ceil: [], torch: [], torchThreads: line.workers * line.threads };
  try {
    const perWorker = Math.ceil(images / run.workersUsed);
    await ceilingFor(net, perWorker, line);
    await timeCalls(step, 0, warmup);
    r.tensors = { before, warm: tf.memory().numTensors, workerWarm: run.workerNumTensors(), own: pool.length * line.batches.length * 2 };
    const tid = line.id;
    let torchOk = false;
    if (torch) {
      try {
        const [h, w, c] = net.input;
        await torch.request({ cmd: 'setup', id: tid, net: net.torchNet, algo: line.algo, batches: line.batches, input: [c, h, w], classes: net.classes, seed: 0 });
        torchOk = true;
      } catch (e) {
        r.torchError = e.message;
      }
    }
    for (let rep = 0; rep < P.reps; rep++) {
      const ms = await timeCalls(step, steps, 0);
      r.ours.push(ms.reduce((a, b) => a + b, 0) / ms.length);
      r.ceil.push(await ceilingRep(net, perWorker, run.workersUsed, line));
      if (torchOk) {
        try {
          const ans = await torch.request({ cmd: 'train', id: tid, threads: r.torchThreads, steps, warmup: rep === 0 ? warmup : 0 });
          r.torch.push(ans.step_ms.reduce((a, b) => a + b, 0) / ans.step_ms.length);
          r.torchRss = ans.maxrss_kb;
        } catch (e) {
          r.torchError = e.message;
          torchOk = false;
        }
      }
    }
    if (torchOk) await torch.request({ cmd: 'drop', id: tid }).catch(() => {});
    r.tensors.end = tf.memory().numTensors;
    r.tensors.workerEnd = run.workerNumTensors();
    const flops = forwardFlops(net.convs) * images * TRAIN_MULTIPLIER[line.algo];
    r.oursMs = median(r.ours);
    r.torchMs = r.torch.length ? median(r.torch) : undefined;
    r.oursIps = (images * 1000) / r.oursMs;
    r.torchIps = r.torchMs ? (images * 1000) / r.torchMs : undefined;
    r.ratio = r.torchIps ? r.oursIps / r.torchIps : undefined;
    r.gflops = flops / r.oursMs / 1e6;
    r.torchGflops = r.torchMs ? flops / r.torchMs / 1e6 : undefined;
    efficiencies(r, flops, run.workersUsed);
  } finally {
    disposeMinibatches(pool);
    run.dispose();
    r.tensors ??= { before };
    r.tensors.after = tf.memory().numTensors;
  }
  const range = (a) => (a.length > 1 ? ` [${f0(Math.min(...a))}-${f0(Math.max(...a))}]` : '');
  console.log(`\n${line.id}: ${net.label} ${line.cfgLabel}, ${line.algo}, ${line.workers} worker(s) requested${r.note ? ` (${r.note})` : ''}`);
  console.log(
    `   ours  ${run.workersUsed} worker(s): ${f1(r.oursIps)} img/s, ${f0(r.oursMs)} ms/step${range(r.ours)}` +
      ` | PyTorch ${r.torchThreads} thread(s): ${r.torchMs ? `${f1(r.torchIps)} img/s, ${f0(r.torchMs)} ms/step${range(r.torch)}` : r.torchError ? `failed: ${r.torchError}` : '-'}` +
      ` | ours/PyTorch ${r.ratio ? f2(r.ratio) + 'x' : '-'}`,
  );
  console.log(
    `   ${f1(r.gflops)} GFLOP/s (${TRAIN_MULTIPLIER[line.algo]}x forward conv FLOPs) of ${ceilingNote(r, run.workersUsed)}` +
      (r.torchGflops ? ` | PyTorch ${f1(r.torchGflops)} GFLOP/s` : ''),
  );
  console.log(`   ${tensorsNote(r.tensors)}; ${memNote(r.torchRss)}`);
  return r;
}

async function evalLine(line) {
  const net = line.net;
  const before = tf.memory().numTensors;
  const run = await buildRun({ network: net.network, input: net.input, classes: net.classes, batches: [32], algo: 'ERM', workers: line.workers, engine: line.engine, threads: line.threads }, tmpRoot);
  const x = tf.randomUniform([line.batch, ...net.input]);
  const r = { line, images: line.batch, workersUsed: run.workersUsed, ours: [], ceil: [], torch: [], torchThreads: line.workers * line.threads };
  try {
    const perWorker = Math.ceil(line.batch / run.workersUsed);
    await ceilingFor(net, perWorker, line);
    await timeCalls(() => run.predict(x), 0, P.warmup);
    r.tensors = { before, warm: tf.memory().numTensors, workerWarm: run.workerNumTensors(), own: 1 };
    let torchOk = false;
    if (torch) {
      try {
        const [h, w, c] = net.input;
        await torch.request({ cmd: 'setup', id: line.id, net: net.torchNet, algo: 'ERM', batches: [8], input: [c, h, w], classes: net.classes, seed: 0 });
        torchOk = true;
      } catch (e) {
        r.torchError = e.message;
      }
    }
    for (let rep = 0; rep < P.reps; rep++) {
      const ms = await timeCalls(() => run.predict(x), P.evalBatches, 0);
      r.ours.push(ms.reduce((a, b) => a + b, 0) / ms.length);
      r.ceil.push(await ceilingRep(net, perWorker, run.workersUsed, line));
      if (torchOk) {
        try {
          const ans = await torch.request({ cmd: 'eval', id: line.id, threads: r.torchThreads, batch: line.batch, batches: P.evalBatches, warmup: rep === 0 ? P.warmup : 0 });
          r.torch.push(ans.batch_ms.reduce((a, b) => a + b, 0) / ans.batch_ms.length);
          r.torchRss = ans.maxrss_kb;
        } catch (e) {
          r.torchError = e.message;
          torchOk = false;
        }
      }
    }
    if (torchOk) await torch.request({ cmd: 'drop', id: line.id }).catch(() => {});
    r.tensors.end = tf.memory().numTensors;
    r.tensors.workerEnd = run.workerNumTensors();
    const flops = forwardFlops(net.convs) * line.batch;
    r.oursMs = median(r.ours);
    r.torchMs = r.torch.length ? median(r.torch) : undefined;
    r.oursIps = (line.batch * 1000) / r.oursMs;
    r.torchIps = r.torchMs ? (line.batch * 1000) / r.torchMs : undefined;
    r.ratio = r.torchIps ? r.oursIps / r.torchIps : undefined;
    r.gflops = flops / r.oursMs / 1e6;
    r.torchGflops = r.torchMs ? flops / r.torchMs / 1e6 : undefined;
    efficiencies(r, flops, run.workersUsed);
  } finally {
    x.dispose();
    run.dispose();
    r.tensors ??= { before };
    r.tensors.after = tf.memory().numTensors;
  }
  console.log(`\n${line.id}: ${net.label} evaluation (predict + argMax), batch ${line.batch}, ${line.workers} worker(s)${run.dp ? ' (predictAsync)' : ''}`);
  console.log(
    `   ours  ${run.workersUsed} worker(s): ${f1(r.oursIps)} img/s, ${f0(r.oursMs)} ms/batch | PyTorch ${r.torchThreads} thread(s): ` +
      `${r.torchMs ? `${f1(r.torchIps)} img/s, ${f0(r.torchMs)} ms/batch` : r.torchError ? `failed: ${r.torchError}` : '-'} | ours/PyTorch ${r.ratio ? f2(r.ratio) + 'x' : '-'}`,
  );
  console.log(`   ${f1(r.gflops)} GFLOP/s of ${ceilingNote(r, run.workersUsed)}${r.torchGflops ? ` | PyTorch ${f1(r.torchGflops)} GFLOP/s` : ''}`);
  console.log(`   ${tensorsNote(r.tensors)}; ${memNote(r.torchRss)}`);
  return r;
}

async function pipelineLine(line) {
  const root = join(tmpRoot, 'images');
  // A PACS-like tree: 3 domains x 7 classes x 4 images, 227 px wide (PNG and JPEG in turn).
  await writeImageTree(root, { environments: ['d0', 'd1', 'd2'], classes: ['c0', 'c1', 'c2', 'c3', 'c4', 'c5', 'c6'], perClass: 4, width: 227 });
  const r = { line, reps: [] };
  for (let rep = 0; rep < P.reps; rep++) {
    r.reps.push(await measureImagePipeline({ root, imageSize: 64, batchSize: 16, batches: P.pipelineBatches, mode: 'train', seed: rep }));
  }
  const ips = median(r.reps.map((p) => p.imagesPerSec));
  const perStep = (line.batches.reduce((a, b) => a + b, 0) * 1000) / ips;
  r.imagesPerSec = ips;
  r.msPerStep = perStep;
  r.cpuMsPerImage = median(r.reps.map((p) => p.cpuMsPerImage));
  console.log(`\n${line.id}: image pipeline (decode + RandomResizedCrop + flip + ColorJitter + grayscale + normalise) to 64x64, batches of 16`);
  console.log(`   ${f1(ips)} img/s, ${f1(r.cpuMsPerImage)} CPU ms per image; one ResNet-18 step's 3 x 16 images: ${f0(perStep)} ms`);
  for (const w of [1, 2]) {
    const t = results.get(`resnet18.erm.w${w}`);
    if (!t?.oursMs) continue;
    const limit = perStep > t.oursMs ? 'the PIPELINE limits' : 'TRAINING limits';
    console.log(`   beside resnet18.erm.w${w}: training step ${f0(t.oursMs)} ms vs reading ${f0(perStep)} ms (${f0((100 * perStep) / t.oursMs)}% of the step): ${limit}`);
  }
  return r;
}

for (const line of lines) {
  try {
    const r = line.kind === 'train' ? await trainLine(line) : line.kind === 'eval' ? await evalLine(line) : await pipelineLine(line);
    results.set(line.id, r);
  } catch (e) {
    console.log(`\n${line.id}: FAILED: ${e.stack ?? e.message}`);
  }
}

// ------------------------------------------------------------------ summary

const done = [...results.values()].filter((r) => r.oursMs);
if (done.length) {
  console.log('\n== summary (images/s, median over reps) ==');
  const rows = [['line', 'ours img/s', 'workers', 'PyTorch img/s', 'threads', 'ours/PyTorch', 'GFLOP/s', 'ceiling', 'efficiency', 'eff. busy', 'tensors warm->end']];
  for (const r of done) {
    const w0 = r.workersUsed < r.line.workers ? `${r.workersUsed}*` : `${r.workersUsed}`;
    const w = r.line.engine === 'onednn' ? `${w0} x ${r.line.threads}t` : w0;
    const tw = r.tensors.workerWarm !== undefined ? ` (w ${r.tensors.workerWarm}->${r.tensors.workerEnd})` : '';
    rows.push([r.line.id, f1(r.oursIps), w, f1(r.torchIps), r.torch.length ? String(r.torchThreads) : '-', r.ratio ? f2(r.ratio) + 'x' : '-', f1(r.gflops), f1(r.ceiling), f2(r.efficiency), r.workersUsed > 1 ? f2(r.busyEfficiency) : '-', `${r.tensors.warm}->${r.tensors.end}${tw}`]);
  }
  console.log(table(rows));
  if (done.some((r) => r.workersUsed < r.line.workers)) console.log('* the algorithm has no data-parallel support: ours ran on 1 thread, PyTorch on the threads shown');
  console.log(
    'ceiling: workers x this thread\'s conv speed alone; eff. busy: against workers x its conv speed while the other\n' +
      'threads run the same convolutions. Both measured after every rep; efficiencies are medians of the reps\' ratios.',
  );

  const lsqRows = [['line', 'workers', 'ours ERM+LSQ/ERM', 'PyTorch ERM+LSQ/ERM']];
  for (const r of done) {
    if (r.line.algo !== 'ERM+LSQ') continue;
    const erm = results.get(r.line.id.replace('.lsq.', '.erm.'));
    if (!erm?.oursMs) continue;
    lsqRows.push([r.line.id.replace('.lsq', ''), String(r.workersUsed), f2(r.oursMs / erm.oursMs), erm.torchMs && r.torchMs ? f2(r.torchMs / erm.torchMs) : '-']);
  }
  if (lsqRows.length > 1) {
    console.log('\n== ERM+LSQ / ERM step time ==');
    console.log(table(lsqRows));
  }
}
const pipe = results.get('resnet18.pipeline');
if (pipe) console.log(`\nimage pipeline: ${f1(pipe.imagesPerSec)} img/s = ${f0(pipe.msPerStep)} ms per ResNet-18 step (48 images)`);
let torchPeak;
if (torch) {
  torchPeak = (await torch.request({ cmd: 'hello' }).catch(() => null))?.maxrss_kb;
  await torch.close();
}
console.log(`\npeak RSS: ours ${f0(rssMB().peak)} MB (main thread and workers), PyTorch ${torchPeak ? f0(torchPeak / 1024) + ' MB' : '-'}; tensors left ${tf.memory().numTensors}; load average at end ${load()}`);
for (const l of loaders.values()) l.close();
rmSync(tmpRoot, { recursive: true, force: true });
process.exit(0);
