import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
// tfjs-core's Node bundle registers no gradients; vitest can load its ESM registration file.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import { registerWasmTrainingKernels } from './wasm-conv-kernels';
import { filterGradKernel, setFilterGradKernel } from './simd-filter-grad';
import { directConvApplies, setDirectConvMode } from './direct-conv';

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
interface Case {
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number | [number, number];
  s: number | [number, number];
  pad: Pad;
}

/** Deterministic pseudo-random data, so that cpu and wasm see identical inputs. */
function rand(n: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s * 1664525 + 1013904223) >>> 0;
    out[i] = s / 2 ** 32 - 0.5;
  }
  return out;
}

/** Value and gradients of sum(conv2d(x, w) * r) on the current backend. */
function convGrads(c: Case, seed: number): { dx: Float32Array; dw: Float32Array; y: Float32Array } {
  const [kh, kw] = typeof c.k === 'number' ? [c.k, c.k] : c.k;
  return tf.tidy(() => {
    const x = tf.tensor4d(rand(c.b * c.h * c.w * c.ci, seed), [c.b, c.h, c.w, c.ci]);
    const w = tf.tensor4d(rand(kh * kw * c.ci * c.co, seed + 1), [kh, kw, c.ci, c.co]);
    const y = tf.conv2d(x, w, c.s, c.pad as 'same');
    const r = tf.tensor(rand(y.size, seed + 2), y.shape);
    const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad as 'same'), r)))([x, w]);
    return { dx: dx.dataSync() as Float32Array, dw: dw.dataSync() as Float32Array, y: y.dataSync() as Float32Array };
  });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): { err: number; scale: number } {
  expect(a.length).toBe(b.length);
  let err = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    err = Math.max(err, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { err, scale };
}

const cases: Case[] = [];
for (const b of [1, 4]) {
  for (const k of [1, 3, 5]) {
    for (const s of [1, 2]) {
      for (const pad of ['same', 'valid'] as const) {
        cases.push({ b, h: 9, w: 8, ci: b === 1 ? 3 : 8, co: b === 1 ? 16 : 8, k, s, pad });
      }
    }
  }
}
cases.push(
  { b: 2, h: 7, w: 7, ci: 1, co: 8, k: 3, s: 1, pad: 'same' },
  { b: 2, h: 10, w: 10, ci: 16, co: 3, k: 3, s: 2, pad: 'same' },
  { b: 2, h: 11, w: 12, ci: 16, co: 16, k: 3, s: 2, pad: 'valid' },
  { b: 2, h: 12, w: 12, ci: 3, co: 8, k: 7, s: 2, pad: [[0, 0], [3, 3], [3, 3], [0, 0]] }, // ResNet stem
  { b: 2, h: 8, w: 8, ci: 8, co: 16, k: 1, s: 2, pad: 'valid' }, // ResNet downsample
  { b: 2, h: 9, w: 9, ci: 8, co: 8, k: 3, s: 1, pad: 1 },
  { b: 2, h: 9, w: 10, ci: 8, co: 8, k: [3, 5], s: [2, 1], pad: 'same' },
  { b: 1, h: 7, w: 8, ci: 4, co: 4, k: 3, s: 3, pad: 'same' },
  { b: 2, h: 9, w: 9, ci: 4, co: 4, k: 4, s: 3, pad: 'valid' },
  { b: 3, h: 28, w: 28, ci: 1, co: 64, k: 3, s: 1, pad: 'same' }, // MNIST_CNN conv1 (few taps: im2col matMul path)
  { b: 2, h: 11, w: 10, ci: 1, co: 32, k: 3, s: 2, pad: 'same' }, // im2col path, stride 2
  { b: 2, h: 9, w: 9, ci: 2, co: 40, k: 3, s: 2, pad: 'valid' }, // im2col path, valid
  { b: 2, h: 9, w: 9, ci: 1, co: 64, k: 5, s: 1, pad: 2 }, // im2col path, numeric pad
  { b: 3, h: 28, w: 28, ci: 16, co: 32, k: 3, s: 2, pad: 'same' }, // MNIST_CNN conv2
  { b: 3, h: 14, w: 14, ci: 32, co: 32, k: 3, s: 1, pad: 'same' }, // MNIST_CNN conv3/4
  { b: 1, h: 6, w: 6, ci: 2, co: 2, k: 3, s: 1, pad: 4 }, // padding wider than the filter: fallback path
  { b: 11, h: 6, w: 5, ci: 8, co: 8, k: 3, s: 2, pad: 'same' }, // batch past the 8-row unrolled transpose
  { b: 16, h: 5, w: 5, ci: 4, co: 6, k: 3, s: 1, pad: 'valid' },
  { b: 5, h: 9, w: 11, ci: 12, co: 24, k: [3, 5], s: [2, 1], pad: [[0, 0], [2, 0], [1, 3], [0, 0]] }, // SIMD: uneven explicit pads
  { b: 9, h: 8, w: 8, ci: 4, co: 8, k: 1, s: 2, pad: 'valid' }, // SIMD: 1x1 downsample, one tile
);

describe('wasm Conv2D gradient kernels', () => {
  beforeAll(async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('uses the SIMD filter-gradient kernel on Node (wasm SIMD is available)', () => {
    expect(filterGradKernel()).toBe('simd');
  });

  // Every case with the default kernels (the SIMD filter gradient takes co % 8 == 0, with input
  // channels padded to a multiple of 4 unless a grey first layer's few taps take the matrix product;
  // MNIST_CNN conv2-4 shapes here have more rows than its 256-row block; the XNNPACK formulations
  // take the rest), and the cases the SIMD kernel takes again with XNNPACK selected instead.
  const simdShaped = (c: Case) => c.co % 8 === 0;
  it.each([
    ...cases.map((c) => [`simd ${JSON.stringify(c)}`, 'simd', c] as const),
    ...cases.filter(simdShaped).map((c) => [`xnnpack ${JSON.stringify(c)}`, 'xnnpack', c] as const),
  ])('match the cpu backend: %s', async (name, kernel, c) => {
    setFilterGradKernel(kernel);
    await tf.setBackend('cpu');
    const ref = convGrads(c, 7);
    await tf.setBackend('wasm');
    const got = convGrads(c, 7);
    const y = maxAbsDiff(got.y, ref.y);
    const dx = maxAbsDiff(got.dx, ref.dx);
    const dw = maxAbsDiff(got.dw, ref.dw);
    console.log(`${name}: dx err ${dx.err.toExponential(2)} (scale ${dx.scale.toFixed(2)}), dw err ${dw.err.toExponential(2)} (scale ${dw.scale.toFixed(2)})`);
    expect(y.err).toBeLessThan(1e-4 * Math.max(1, y.scale));
    expect(dx.err).toBeLessThan(1e-4 * Math.max(1, dx.scale));
    expect(dw.err).toBeLessThan(1e-4 * Math.max(1, dw.scale));
    setFilterGradKernel('simd');
  });

  // The direct kernel (forward: co % 8 == 0; input gradient: ci % 4 == 0 and co % 4 == 0) on every
  // case it takes, forced on: strides, paddings, odd pixel counts (the last 4-pixel tile of the
  // forward, the last pixel pair of a gradient phase), and ResNet's last-stage shapes in small.
  const directShaped = (c: Case) => c.co % 8 === 0 || (c.ci % 4 === 0 && c.co % 4 === 0);
  const directCases: Case[] = [
    ...cases.filter(directShaped),
    { b: 3, h: 2, w: 2, ci: 64, co: 64, k: 3, s: 1, pad: 1 }, // layer4.x.conv2
    { b: 3, h: 4, w: 4, ci: 32, co: 64, k: 3, s: 2, pad: 1 }, // layer4.0.conv1
    { b: 3, h: 4, w: 4, ci: 32, co: 64, k: 1, s: 2, pad: 'valid' }, // layer4.0.downsample
    { b: 1, h: 3, w: 5, ci: 12, co: 20, k: 3, s: 2, pad: 'same' }, // 6 pixels, input gradient only
    { b: 1, h: 5, w: 3, ci: 8, co: 16, k: [2, 3], s: [3, 2], pad: 'valid' },
  ];
  it.each(directCases.map((c) => [JSON.stringify(c), c] as const))('direct kernel matches the cpu backend: %s', async (_name, c) => {
    await tf.setBackend('cpu');
    const ref = convGrads(c, 11);
    await tf.setBackend('wasm');
    setDirectConvMode('always');
    try {
      const got = convGrads(c, 11);
      const y = maxAbsDiff(got.y, ref.y);
      const dx = maxAbsDiff(got.dx, ref.dx);
      const dw = maxAbsDiff(got.dw, ref.dw);
      expect(y.err).toBeLessThan(1e-4 * Math.max(1, y.scale));
      expect(dx.err).toBeLessThan(1e-4 * Math.max(1, dx.scale));
      expect(dw.err).toBeLessThan(1e-4 * Math.max(1, dw.scale));
    } finally {
      setDirectConvMode('auto');
    }
  });

  it('a dilated convolution goes to XNNPACK even with the direct kernel forced on', async () => {
    const run = () =>
      tf.tidy(() => {
        const x = tf.tensor4d(rand(2 * 9 * 9 * 8, 5), [2, 9, 9, 8]);
        const w = tf.tensor4d(rand(3 * 3 * 8 * 16, 6), [3, 3, 8, 16]);
        return tf.conv2d(x, w, 1, 'same', 'NHWC', 2).dataSync() as Float32Array;
      });
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    setDirectConvMode('always');
    try {
      expect(maxAbsDiff(run(), ref).err).toBeLessThan(1e-4);
    } finally {
      setDirectConvMode('auto');
    }
  });

  it('by default, the direct kernel takes large filters with small outputs only', async () => {
    await tf.setBackend('wasm');
    const backend = tf.backend() as never;
    const info = (b: number, h: number, ci: number, co: number, s: number) =>
      tf.backend_util.computeConv2DInfo([b, h, h, ci], [3, 3, ci, co], s, 1, 'same', undefined, false, 'channelsLast');
    expect(directConvApplies(backend, info(24, 2, 512, 512, 1), 'forward')).toBe(true); // ResNet-18 layer4, one worker's half
    expect(directConvApplies(backend, info(24, 2, 512, 512, 1), 'input')).toBe(true);
    expect(directConvApplies(backend, info(64, 28, 64, 128, 2), 'forward')).toBe(false); // MNIST_CNN conv2
    expect(directConvApplies(backend, info(24, 16, 64, 64, 1), 'forward')).toBe(false); // ResNet-18 layer1 (6144 pixels)
    expect(directConvApplies(backend, info(24, 8, 128, 128, 1), 'input')).toBe(true); // ResNet-18 layer2 (1536 pixels)
    setDirectConvMode('never');
    expect(directConvApplies(backend, info(24, 2, 512, 512, 1), 'forward')).toBe(false);
    setDirectConvMode('auto');
  });

  it('registering twice keeps the kernels working', async () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    const c: Case = { b: 2, h: 6, w: 6, ci: 3, co: 4, k: 3, s: 2, pad: 'same' };
    const got = convGrads(c, 3);
    await tf.setBackend('cpu');
    const ref = convGrads(c, 3);
    expect(maxAbsDiff(got.dw, ref.dw).err).toBeLessThan(1e-4);
    expect(maxAbsDiff(got.dx, ref.dx).err).toBeLessThan(1e-4);
  });

  it('leaks neither tensors nor bytes across repeated gradient calls', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([4, 12, 12, 8]) as tf.Tensor4D;
    const w1 = tf.randomNormal([3, 3, 8, 16]) as tf.Tensor4D;
    const w2 = tf.randomNormal([3, 3, 16, 16]) as tf.Tensor4D;
    const step = () =>
      tf.tidy(() => {
        const g = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
          tf.sum(tf.conv2d(tf.relu(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')), c as tf.Tensor4D, 1, 'same')),
        )([x, w1, w2]);
        return tf.addN(g.map((t) => tf.sum(t)));
      }).dispose();
    step();
    const before = tf.memory();
    const dataIdsBefore = tf.engine().backend.numDataIds();
    for (let i = 0; i < 5; i++) step();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(tf.engine().backend.numDataIds()).toBe(dataIdsBefore);
    tf.dispose([x, w1, w2]);
  });
});
