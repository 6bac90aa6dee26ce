// `npm run bench:deploy`: what a deployed qtdog model costs, side by side in one run. Latency at
// batch 1 (median, p90) and throughput at batch 32 for ONNX Runtime int8 (full QDQ: QLinearConv),
// ONNX Runtime weight-only (int8 codes + DequantizeLinear), ONNX Runtime fp32, PyTorch fp32 (eager,
// Debian's python3-torch) and qtdog's own TF.js evaluation (wasm), all on the same threads; for
// MNIST_CNN at 28x28 and ResNet-50 at 224x224 (random weights: latency does not depend on them);
// and the file size of each format. Build first (npm run build).
//
//   npm run bench:deploy -- [--threads 2] [--reps 15] [--no-torch] [--json out.json] [--quick]
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-node';
import { Rng } from '@qtdog/core';
import { selectBackend } from '@qtdog/engine';
import { MnistCnn, ResNet } from '@qtdog/networks';
import { encodeModel, exportByteSize, LsqOptions, LsqQuantizer, modelExportTensors } from '@qtdog/quantizers';
import { buildModelGraph, encodeOnnxModel, uint8Scale } from '@qtdog/deploy';
import { arg } from './lib/args.mjs';
import { ROOT, cpuInfo, f1, f2, packageVersion } from './lib/system.mjs';

const threads = Number(arg('threads', '2'));
const quick = process.argv.includes('--quick');
const reps1 = Number(arg('reps', quick ? '5' : '15'));
const reps32 = quick ? 2 : 3;
const classes = 7; // PACS
const median = (v) => { const s = [...v].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };
const p90 = (v) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.ceil(0.9 * v.length) - 1)];

/** Random inputs [n, c, h, w]: uniform [0, 1] (MNIST pixels) or normal (normalised images). */
function input(n, [h, w, c], kind, seed = 1) {
  const rng = new Rng(seed);
  return Float32Array.from({ length: n * c * h * w }, () => (kind === 'pixels' ? rng.next() : rng.normal()));
}

/** Per-point uint8 scales from min/max of the probe model on 4 random batches of 8 (PTQ for latency). */
async function calibrate(spec, kind) {
  const probe = buildModelGraph(spec, 'int8', { kind: 'probe' });
  const s = await ort.InferenceSession.create(encodeOnnxModel(probe.g, { graphName: 'probe', producerVersion: 'bench', metadata: {} }), { intraOpNumThreads: threads });
  const [h, w, c] = spec.inputShape;
  const range = new Map();
  for (let b = 0; b < 4; b++) {
    const out = await s.run({ input: new ort.Tensor('float32', input(8, spec.inputShape, kind, 10 + b), [8, c, h, w]) }, [...probe.probes.values()]);
    for (const [p, name] of probe.probes) {
      const v = out[name].data;
      const [lo, hi] = range.get(p) ?? [Infinity, -Infinity];
      let [a, z] = [lo, hi];
      for (const x of v) (a = Math.min(a, x)), (z = Math.max(z, x));
      range.set(p, [a, z]);
    }
  }
  await s.release();
  return new Map([...range].map(([p, [lo, hi]]) => [p, uint8Scale(lo, hi)]));
}

async function timeOrt(bytes, spec, kind) {
  const [h, w, c] = spec.inputShape;
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
  const run = async (n, reps, warmup) => {
    const feed = { input: new ort.Tensor('float32', input(n, spec.inputShape, kind), [n, c, h, w]) };
    const out = [];
    for (let i = 0; i < warmup + reps; i++) {
      const t0 = performance.now();
      await s.run(feed);
      if (i >= warmup) out.push(performance.now() - t0);
    }
    return out;
  };
  const b1 = await run(1, spec.reps1, 3);
  const b32 = await run(32, reps32, 1);
  await s.release();
  return { b1, b32 };
}

/** TF.js wasm runs out of its 4 GiB memory on ResNet-50 at batch 32: 32 images go as `chunk` batches. */
function timeTfjs(network, spec, kind, chunk = 32) {
  const [h, w, c] = spec.inputShape;
  const run = (n, reps, warmup) => {
    const rng = new Rng(1);
    const x = tf.tensor4d(Float32Array.from({ length: n * h * w * c }, () => (kind === 'pixels' ? rng.next() : rng.normal())), [n, h, w, c]);
    const out = [];
    for (let i = 0; i < warmup + reps; i++) {
      const t0 = performance.now();
      for (let start = 0; start < n; start += chunk) {
        const part = tf.slice(x, [start, 0, 0, 0], [Math.min(chunk, n - start), h, w, c]);
        const y = network.predict(part, false);
        y.dataSync();
        tf.dispose([y, part]);
      }
      if (i >= warmup) out.push(performance.now() - t0);
    }
    x.dispose();
    return out;
  };
  return { b1: run(1, spec.reps1, 2), b32: run(32, reps32, 1) };
}

function torchTimes() {
  if (process.argv.includes('--no-torch')) return { skipped: '--no-torch' };
  const py = process.env.QTDOG_BENCH_PYTHON ?? '/usr/bin/python3';
  const args = JSON.stringify({ threads, classes, classes_mnist: 10, reps1, reps1_mnist: reps1 * 4, reps32 });
  const r = spawnSync(py, [join(ROOT, 'tools/bench/torch_deploy.py'), args], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: String(threads) } });
  if (r.status !== 0) return { skipped: `PyTorch not available (${(r.stderr || '').trim().split('\n').pop()}); sh tools/bench/setup.sh installs it` };
  return JSON.parse(r.stdout.trim().split('\n').pop());
}

async function main() {
  const backend = await selectBackend('wasm');
  const nets = [
    { key: 'mnist_cnn', title: 'MNIST_CNN 28x28x1', inputShape: [28, 28, 1], classes: 10, kind: 'pixels', reps1: reps1 * 4, make: () => new MnistCnn([28, 28, 1], 10, 0), type: 'MNIST_CNN' },
    { key: 'resnet50', title: 'ResNet-50 224x224x3', inputShape: [224, 224, 3], classes, kind: 'normal', reps1, make: () => new ResNet([224, 224, 3], classes, 0, { depth: 50, freezeBN: false, dropout: 0 }), type: 'ResNet50' },
  ];
  const torch = torchTimes();
  const results = { date: new Date().toISOString(), cpu: cpuInfo(), threads, backend, onnxruntime: packageVersion('onnxruntime-node'), torch: torch.torch ?? torch.skipped, nets: {} };
  for (const net of nets) {
    process.stderr.write(`${net.title}...\n`);
    const network = net.make();
    const floatSpec = { network: { type: net.type, options: {} }, inputShape: net.inputShape, numClasses: net.classes, tensors: modelExportTensors(network, undefined, true), reps1: net.reps1 };
    const fp32 = encodeOnnxModel(buildModelGraph(floatSpec, 'float32', { kind: 'float' }).g, { graphName: 'fp32', producerVersion: 'bench', metadata: {} });
    // QT-DoG's quantizer: LSQ 7 bits per output channel, on from step 0 (the classifier stays float).
    const q = new LsqQuantizer(network, LsqOptions.parse({ bits: 7, startStep: 0 }));
    q.onStep(0, network);
    const qSpec = { ...floatSpec, tensors: modelExportTensors(network, q) };
    const weightOnly = encodeOnnxModel(buildModelGraph(qSpec, 'weight-only', { kind: 'float' }).g, { graphName: 'w', producerVersion: 'bench', metadata: {} });
    const int8 = encodeOnnxModel(buildModelGraph(qSpec, 'int8', { kind: 'qdq', scales: await calibrate(qSpec, net.kind) }).g, { graphName: 'int8', producerVersion: 'bench', metadata: {} });
    const header = { network: { type: net.type, options: {} }, inputShape: net.inputShape, numClasses: net.classes, source: {} };
    const sizes = { 'ONNX fp32': fp32.length, 'ONNX weight-only (7-bit codes as int8)': weightOnly.length, 'ONNX int8 (QDQ)': int8.length, 'qtdog packed 7-bit': exportByteSize(encodeModel(header, network, q)) };
    const rows = {};
    rows['ORT int8'] = await timeOrt(int8, qSpec, net.kind);
    rows['ORT weight-only'] = await timeOrt(weightOnly, qSpec, net.kind);
    rows['ORT fp32'] = await timeOrt(fp32, floatSpec, net.kind);
    if (torch[net.key]) rows['PyTorch fp32 (eager)'] = { b1: torch[net.key].b1_ms, b32: torch[net.key].b32_ms };
    const chunk = net.key === 'resnet50' ? 8 : 32;
    rows[`qtdog TF.js eval (${backend}, LSQ fake-quant${chunk < 32 ? `; batch 32 as ${32 / chunk} x ${chunk}` : ''})`] = timeTfjs(network, floatSpec, net.kind, chunk);
    q.dispose?.();
    network.dispose();
    results.nets[net.key] = { title: net.title, sizes, rows: Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, { b1MedianMs: median(v.b1), b1P90Ms: p90(v.b1), b32ImagesPerS: (32 * 1000) / median(v.b32), b1: v.b1, b32: v.b32 }])) };
  }
  const lines = [`bench:deploy ${results.date}, ${results.cpu.model} (${results.cpu.logical} logical CPUs), ${threads} threads; onnxruntime-node ${results.onnxruntime}; PyTorch ${results.torch}; TF.js backend ${backend}`];
  for (const r of Object.values(results.nets)) {
    lines.push('', `### ${r.title}`, '', '| runtime | batch 1 median ms | batch 1 p90 ms | batch 32 images/s |', '|---|---|---|---|');
    for (const [k, v] of Object.entries(r.rows)) lines.push(`| ${k} | ${f2(v.b1MedianMs)} | ${f2(v.b1P90Ms)} | ${f1(v.b32ImagesPerS)} |`);
    const ratio = r.rows['ORT fp32'].b1MedianMs / r.rows['ORT int8'].b1MedianMs;
    lines.push('', `ORT int8 vs ORT fp32, batch 1: ${f2(ratio)}x faster`);
    const pt = r.rows['PyTorch fp32 (eager)'];
    if (pt) lines.push(`ORT int8 vs PyTorch fp32, batch 1: ${f2(pt.b1MedianMs / r.rows['ORT int8'].b1MedianMs)}x faster`);
    lines.push('', '| format | bytes | vs ONNX fp32 |', '|---|---|---|');
    for (const [k, v] of Object.entries(r.sizes)) lines.push(`| ${k} | ${v} | ${f2(v / r.sizes['ONNX fp32'])}x |`);
  }
  console.log(lines.join('\n'));
  const json = arg('json');
  if (json) writeFileSync(json, JSON.stringify(results, null, 1) + '\n');
}

await main();
process.exit(0);
