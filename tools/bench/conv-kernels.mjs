// Times one MNIST_CNN-shaped training step on the wasm backend, split per op type.
//
//   cd packages/engine && npx tsup && cd ../.. && node tools/bench/conv-kernels.mjs [batch ...]
//
// MNIST_CNN (SPEC.md): conv 3x3 64 -> ReLU -> GroupNorm(8) -> conv 3x3 128 stride 2 -> ReLU ->
// GroupNorm(8) -> 2 x (conv 3x3 128 -> ReLU -> GroupNorm(8)), on 28x28x1 images. The backward
// pass is run kernel by kernel (the same kernels tf.grads would call) so each op type can be
// timed; when tfjs's gradients are registered (@tensorflow/tfjs installed) a tf.grads step is
// timed too. GFLOP/s counts 2 * multiply-adds of the convolution (the same for both gradients).
// Times are the median over the measured steps (min in brackets): the machine may be shared.
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend, groupNorm } from '../../packages/engine/dist/index.js';

const batches = process.argv.slice(2).map(Number).filter((n) => n > 0);
const STEPS = Number(process.env.STEPS ?? 5);
const layers = [
  { h: 28, ci: 1, co: 64, s: 1 },
  { h: 28, ci: 64, co: 128, s: 2 },
  { h: 14, ci: 128, co: 128, s: 1 },
  { h: 14, ci: 128, co: 128, s: 1 },
];

const backend = await selectBackend('wasm', (m) => console.log(m));
const withTape = tf.getGradient('Conv2D') != null;

const median = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const fmt = (a) => `${median(a).toFixed(1)} ms [${Math.min(...a).toFixed(1)}]`;

function flops(B, l) {
  const oh = Math.ceil(l.h / l.s);
  return 2 * B * oh * oh * 9 * l.ci * l.co;
}

function bench(B) {
  const params = tf.tidy(() =>
    layers.map((l) => ({
      w: tf.variable(tf.randomNormal([3, 3, l.ci, l.co], 0, Math.sqrt(2 / (9 * l.ci)))),
      gamma: tf.variable(tf.ones([l.co])),
      beta: tf.variable(tf.zeros([l.co])),
    })),
  );
  const x0 = tf.randomNormal([B, 28, 28, 1]);
  const dyTop = tf.randomNormal([B, 14, 14, 128]);
  const cats = ['conv fwd', 'Conv2DBackpropInput', 'Conv2DBackpropFilter', 'GroupNorm fwd', 'GroupNorm bwd', 'ReLU fwd+bwd'];
  const perLayer = layers.map(() => ({ fwd: [], dx: [], dw: [] }));
  const totals = Object.fromEntries(cats.map((c) => [c, []]));
  const steps = [];

  const timed = (acc, key, f) => {
    const t = performance.now();
    const r = f();
    acc[key] = (acc[key] ?? 0) + performance.now() - t;
    return r;
  };

  for (let it = 0; it < STEPS + 2; it++) {
    const acc = {};
    const lay = layers.map(() => ({}));
    const t0 = performance.now();
    // Forward, keeping what the backward pass needs.
    const saved = [];
    let x = x0;
    layers.forEach((l, i) => {
      const p = params[i];
      const z = timed(lay[i], 'fwd', () => tf.conv2d(x, p.w, l.s, 'same'));
      const a = timed(acc, 'ReLU fwd+bwd', () => tf.relu(z));
      // groupNorm's fused kernels return mean/rstd; run the kernel directly to keep them.
      const [y, mean, rstd] = timed(acc, 'GroupNorm fwd', () =>
        tf.engine().runKernel('QtdogGroupNorm', { x: a, gamma: p.gamma, beta: p.beta }, { numGroups: 8, epsilon: 1e-5 }),
      );
      saved.push({ x, z, a, mean, rstd });
      x = y;
    });
    // Backward.
    let dy = dyTop;
    for (let i = layers.length - 1; i >= 0; i--) {
      const l = layers[i];
      const p = params[i];
      const s = saved[i];
      const [da, dgamma, dbeta] = timed(acc, 'GroupNorm bwd', () =>
        tf.engine().runKernel('QtdogGroupNormGrad', { dy, x: s.a, gamma: p.gamma, mean: s.mean, rstd: s.rstd }, { numGroups: 8 }),
      );
      const dz = timed(acc, 'ReLU fwd+bwd', () => tf.tidy(() => tf.mul(da, tf.step(s.z))));
      const attrs = { strides: l.s, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined };
      const dw = timed(lay[i], 'dw', () => tf.engine().runKernel('Conv2DBackpropFilter', { x: s.x, dy: dz }, { ...attrs, filterShape: p.w.shape }));
      const dx = i > 0 ? timed(lay[i], 'dx', () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dz, filter: p.w }, { ...attrs, inputShape: s.x.shape })) : null;
      tf.dispose([da, dgamma, dbeta, dz, dw, s.z, s.a, s.mean, s.rstd]);
      if (dy !== dyTop) dy.dispose();
      dy = dx;
    }
    saved.forEach((s, i) => i > 0 && s.x.dispose());
    x.dispose();
    const total = performance.now() - t0;
    if (it < 2) continue; // warm-up: XNNPACK operator creation, heap growth
    steps.push(total);
    lay.forEach((v, i) => {
      perLayer[i].fwd.push(v.fwd);
      if (v.dx != null) perLayer[i].dx.push(v.dx);
      perLayer[i].dw.push(v.dw);
    });
    totals['conv fwd'].push(lay.reduce((a, v) => a + v.fwd, 0));
    totals['Conv2DBackpropInput'].push(lay.reduce((a, v) => a + (v.dx ?? 0), 0));
    totals['Conv2DBackpropFilter'].push(lay.reduce((a, v) => a + v.dw, 0));
    for (const c of cats.slice(3)) totals[c].push(acc[c]);
  }

  // The ceiling: XNNPACK's forward Conv2D alone, on the same shapes.
  const ceiling = layers.map((l) => {
    const xs = tf.randomNormal([B, l.h, l.h, l.ci]);
    const w = tf.randomNormal([3, 3, l.ci, l.co]);
    const t = [];
    for (let i = 0; i < STEPS + 2; i++) {
      const t0 = performance.now();
      tf.conv2d(xs, w, l.s, 'same').dispose();
      if (i >= 2) t.push(performance.now() - t0);
    }
    tf.dispose([xs, w]);
    return t;
  });

  console.log(`\n== batch ${B}: ${STEPS} steps on ${backend} ==`);
  const allFlops = layers.reduce((a, l) => a + flops(B, l), 0);
  const gf = (f, ms) => `${(f / ms / 1e6).toFixed(1)} GFLOP/s`;
  layers.forEach((l, i) => {
    const f = flops(B, l);
    const pl = perLayer[i];
    console.log(
      `conv${i + 1} [${B},${l.h},${l.h},${l.ci}]->${l.co} s${l.s}: ` +
        `fwd ${fmt(pl.fwd)} ${gf(f, median(pl.fwd))} | ` +
        (pl.dx.length ? `dx ${fmt(pl.dx)} ${gf(f, median(pl.dx))} | ` : 'dx (not needed) | ') +
        `dw ${fmt(pl.dw)} ${gf(f, median(pl.dw))} | ceiling ${fmt(ceiling[i])} ${gf(f, median(ceiling[i]))}`,
    );
  });
  const dxFlops = layers.slice(1).reduce((a, l) => a + flops(B, l), 0);
  for (const c of cats) {
    const f = c === 'conv fwd' || c === 'Conv2DBackpropFilter' ? allFlops : c === 'Conv2DBackpropInput' ? dxFlops : 0;
    console.log(`${c.padEnd(22)} ${fmt(totals[c])}${f ? '  ' + gf(f, median(totals[c])) : ''}`);
  }
  const ceilingMs = ceiling.reduce((a, t) => a + median(t), 0);
  console.log(`ceiling: raw forward Conv2D ${ceilingMs.toFixed(0)} ms, so all ${((2 * allFlops + dxFlops) / 1e9).toFixed(1)} GFLOP of the step's convolutions at that speed ${(ceilingMs * (2 + dxFlops / allFlops)).toFixed(0)} ms`);
  console.log(`step (kernel by kernel)  ${fmt(steps)}  ${gf(2 * allFlops + dxFlops, median(steps))} overall`);

  if (withTape) {
    const vars = params.flatMap((p) => [p.w, p.gamma, p.beta]);
    const r = tf.randomNormal([B, 128]);
    const t = [];
    for (let i = 0; i < STEPS + 2; i++) {
      const t0 = performance.now();
      const { value, grads } = tf.variableGrads(() => {
        let h = x0;
        layers.forEach((l, j) => {
          h = groupNorm(tf.relu(tf.conv2d(h, params[j].w, l.s, 'same')), 8, params[j].gamma, params[j].beta);
        });
        return tf.sum(tf.mul(tf.mean(h, [1, 2]), r));
      }, vars);
      value.dispose();
      tf.dispose(Object.values(grads));
      if (i >= 2) t.push(performance.now() - t0);
    }
    r.dispose();
    console.log(`step (tf.variableGrads)  ${fmt(t)}`);
  }
  tf.dispose([x0, dyTop]);
  params.forEach((p) => tf.dispose([p.w, p.gamma, p.beta]));
}

for (const B of batches.length ? batches : [64, 16]) bench(B);
console.log(`\ntensors left: ${tf.memory().numTensors}`);
