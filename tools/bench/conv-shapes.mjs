// Per-shape times of the three convolution kernels of a training step (forward, input gradient,
// filter gradient) on ResNet-18's (or MNIST_CNN's) distinct conv shapes, on the wasm backend, with our direct kernel
// ('direct') against XNNPACK ('xnn') for the forward pass and the input gradient: where a ResNet
// step's convolution time goes, and where the direct kernel pays.
//
//   node tools/bench/conv-shapes.mjs [--net resnet18|mnist] [--batch 24] [--size 64] [--reps 5]
//
// Every call gets a filter it has not seen, as in training (the weights change every step):
// XNNPACK packs each new filter, and a cached one would hide that. Times are medians over reps,
// run in turns so load changes touch every column alike. FLOPs are 2 x multiply-adds, the same
// count for all three kernels; "auto" is what the engine's size rule picks.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, setDirectConvMode } from '@qtdog/engine';
import { resnet18Convs, mnistCnnConvs, convFlops, outSize } from './lib/shapes.mjs';
import { convInputs, disposeConvInputs, runConv } from './lib/conv-inputs.mjs';
import { arg } from './lib/args.mjs';
import { median } from './lib/ours.mjs';

const net = arg('net', 'resnet18');
if (net !== 'resnet18' && net !== 'mnist') throw new Error('--net: one of resnet18, mnist');
const B = Number(arg('batch', 24));
const size = Number(arg('size', 64));
const REPS = Number(arg('reps', 5));
await selectBackend('wasm', () => {});

/** Times fn(fresh copy of w) under the given direct-conv mode. */
function time(fn, w, mode) {
  const fresh = tf.add(w, 0);
  setDirectConvMode(mode);
  const t = performance.now();
  const r = fn(fresh);
  const ms = performance.now() - t;
  setDirectConvMode('auto');
  tf.dispose([r, fresh]);
  return ms;
}

const rows = [];
const cols = ['fx', 'fd', 'ix', 'id', 'w', 'fa', 'ia'];
const tot = Object.fromEntries(cols.map((c) => [c, 0]));
let totFlops = 0;
const inputs = convInputs(net === 'mnist' ? mnistCnnConvs(1) : resnet18Convs(size, 3), B);
for (const entry of inputs) {
  const { s, x, w, pad } = entry;
  const oh = outSize(s.h, s.k, s.stride, s.pad);
  const dy = tf.randomUniform([B, oh, oh, s.cout]);
  const fwd = (f) => runConv({ ...entry, w: f });
  const inp = (f) => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { strides: s.stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape: x.shape });
  const fil = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: s.stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: w.shape });
  // The direct kernel needs co % 8 (forward) and ci % 4 (input): where it cannot run, 'always' is XNNPACK.
  const kinds = {
    fx: () => time(fwd, w, 'never'),
    fd: () => time(fwd, w, 'always'),
    ix: () => time(inp, w, 'never'),
    id: () => time(inp, w, 'always'),
    w: () => time(fil, w, 'auto'),
    fa: () => time(fwd, w, 'auto'),
    ia: () => time(inp, w, 'auto'),
  };
  const t = Object.fromEntries(cols.map((c) => [c, []]));
  for (const k of cols) kinds[k](); // warm-up
  for (let r = 0; r < REPS; r++) for (const k of cols) t[k].push(kinds[k]());
  dy.dispose();
  const fl = convFlops(s) * B;
  const m = Object.fromEntries(cols.map((c) => [c, median(t[c])]));
  const input = s.name !== 'conv1'; // the stem's input gradient is never needed
  for (const c of cols) if (input || c[0] !== 'i') tot[c] += m[c] * s.count;
  totFlops += fl * s.count;
  rows.push({ s, fl, m, input });
}
disposeConvInputs(inputs);
const g = (fl, ms) => (fl / ms / 1e6).toFixed(1);
const cell = (fl, ms) => `${ms.toFixed(1).padStart(7)} ${g(fl, ms).padStart(5)}`;
console.log(`${net === 'mnist' ? 'MNIST_CNN convolutions at 28x28' : `ResNet-18 convolutions at ${size}x${size}`}, batch ${B}, wasm, 1 thread; every call on a new filter; medians of ${REPS}`);
console.log('ms and GFLOP/s per call; xnn = XNNPACK, direct = our direct kernel, auto = the engine\'s choice');
console.log('shape (name, HxW, cin->cout, k/stride)     count  fwd xnn        direct        auto    input xnn       direct        auto    filter');
for (const { s, fl, m, input } of rows) {
  const name = `${s.name} ${s.h}x${s.w} ${s.cin}->${s.cout} ${s.k}/${s.stride}`.padEnd(42);
  const inCells = input ? `${cell(fl, m.ix)} ${cell(fl, m.id)} ${cell(fl, m.ia)}` : '   (not needed for the first layer)'.padEnd(41);
  console.log(`${name}${String(s.count).padStart(5)}  ${cell(fl, m.fx)} ${cell(fl, m.fd)} ${cell(fl, m.fa)}  ${inCells}  ${cell(fl, m.w)}`);
}
console.log(`per step (times x count, batch ${B}): forward xnn ${tot.fx.toFixed(0)} ms, direct ${tot.fd.toFixed(0)}, auto ${tot.fa.toFixed(0)}; input gradient xnn ${tot.ix.toFixed(0)} ms, direct ${tot.id.toFixed(0)}, auto ${tot.ia.toFixed(0)}; filter gradient ${tot.w.toFixed(0)} ms`);
console.log(`convolutions per step: XNNPACK only ${(tot.fx + tot.ix + tot.w).toFixed(0)} ms, auto ${(tot.fa + tot.ia + tot.w).toFixed(0)} ms (ratio ${((tot.fx + tot.ix + tot.w) / (tot.fa + tot.ia + tot.w)).toFixed(2)})`);
