// Training kernels for TF.js's wasm backend: both gradients of Conv2D, computed as
// XNNPACK convolutions or on our own SIMD kernels (simd-filter-grad.ts, direct-conv.ts), and a
// Conv2D that sends large filters with small outputs to the direct kernel.
//
// tfjs-backend-wasm 4.x ships no Conv2DBackpropFilter kernel (so a conv net
// cannot train on it at all) and a naive loop for Conv2DBackpropInput (about 4x
// slower than the forward convolution). Both gradients are convolutions
// themselves, so we rewrite them as calls to the backend's own XNNPACK Conv2D
// kernel with as little data movement around them as possible.
//
// NHWC only, dilations 1, any strides and paddings ('same', 'valid', numbers,
// explicit arrays).
import '@tensorflow/tfjs-backend-wasm'; // its kernels must be registered before ours replace one
import {
  backend_util,
  Conv2D,
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type Conv2DAttrs,
  type KernelConfig,
  type KernelFunc,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerGroupNormKernels } from './group-norm-kernels';
import { registerLeadingAxesReduceKernels } from './leading-axes-reduce-kernels';
import { registerMaxPoolGradKernel } from './max-pool-grad-kernel';
import { registerSharedIdentityKernel } from './shared-identity-kernel';
import { registerAdamKernels } from './adam-update';
import { filterGradBySimd, simdFilterGradApplies } from './simd-filter-grad';
import { conv2dBackpropInputDirect, conv2dDirect, directConvApplies } from './direct-conv';
import { alloc, free, heap, replaceKernel, runWasmKernel, swapOuterInner } from './wasm-kernel-utils';

type ConvInfo = backend_util.Conv2DInfo;

function convInfoFor(
  inShape: number[],
  filterShape: number[],
  attrs: { strides: number | [number, number]; pad: unknown; dataFormat: string; dimRoundingMode?: unknown },
  kernelName: string,
): ConvInfo {
  if (attrs.dataFormat !== 'NHWC') {
    throw new Error(`@qtdog/engine: wasm ${kernelName} supports dataFormat 'NHWC' only, got '${attrs.dataFormat}'.`);
  }
  return backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    'channelsLast',
  );
}

// ---------------------------------------------------------------------------
// Filter gradient.
//
// dW[a,b,i,o] = sum_{n,p,q} xpad[n, p*sh + a, q*sw + b, i] * dy[n, p, q, o]
//
// Where the channels allow (co % 8; ci padded to a multiple of 4), our own wasm SIMD kernel computes it
// (simd-filter-grad.ts). Otherwise, in general, it is computed as a convolution whose "images" are the input
// channels i (xT: [ci, H, W, B], batch as channels), whose "filter" is dy laid
// out as [OH, OW, B, co], with dilation = forward stride and the forward padding;
// its output [ci, kh, kw, co] is dW up to a small transpose. (Splitting the batch
// into chunks, or lowering to matrix products over shifted views, measured no faster.)
//
// XNNPACK repacks the filter operand (dy) on every call. When the filter has few
// taps (kh*kw*ci, e.g. 9 for a first layer on grey images) that repacking costs
// far more than the arithmetic, so there dW^T = dy^T [co, K] . im2col(x) [K, taps]
// is one matrix product whose packed operand is the small im2col matrix.
// ---------------------------------------------------------------------------
function conv2DBackpropFilterWasm(args: {
  inputs: { x: TensorInfo; dy: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropFilterAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const info = convInfoFor(inputs.x.shape, attrs.filterShape, attrs, 'Conv2DBackpropFilter');
  const taps = info.filterHeight * info.filterWidth * info.inChannels;
  // Few taps (a grey first layer): one matrix product. Otherwise the SIMD kernel, which pads
  // input channels to a multiple of 4 (an RGB first layer: 4/3 of the work, still 2.5x faster
  // than the convolution formulation for ResNet's 7x7 stem).
  if (info.inChannels % 4 !== 0 && taps * 2 <= info.outChannels) return filterGradByMatMul(backend, inputs.x, inputs.dy, info);
  if (simdFilterGradApplies(info)) return filterGradBySimd(backend, inputs.x, inputs.dy, info);
  return taps * 2 <= info.outChannels
    ? filterGradByMatMul(backend, inputs.x, inputs.dy, info)
    : filterGradByConv(backend, inputs.x, inputs.dy, info);
}

function filterGradByConv(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, OH, OW] = dy.shape;
  const { top: pt, left: pl } = info.padInfo;

  // Input channels become the batch, the batch becomes the channels.
  const xT = alloc(backend, [ci, H, W, B]);
  swapOuterInner(heap(backend, x), B, H * W, ci, heap(backend, xT));
  // dy as a filter [OH, OW, B, co]: moves whole co-rows, cheap for the wasm kernel.
  const dyT = runWasmKernel(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] });

  // Bottom/right padding so that the output is exactly kh x kw when the input
  // extent allows it; rows the forward pass never read give a taller output, cropped below.
  const pb = Math.max(0, kh + (OH - 1) * sh - pt - H);
  const pr = Math.max(0, kw + (OW - 1) * sw - pl - W);
  const g = xnnpackConv2D(
    backend,
    { x: xT, filter: dyT },
    { strides: 1, dilations: [sh, sw], pad: [[0, 0], [pt, pb], [pl, pr], [0, 0]], dataFormat: 'NHWC' },
  );
  free(backend, xT);
  free(backend, dyT);

  // [ci, gh, gw, co] (gh >= kh, gw >= kw) -> [kh, kw, ci, co].
  const [, gh, gw] = g.shape;
  const dw = alloc(backend, [kh, kw, ci, co]);
  const src = heap(backend, g);
  const dst = heap(backend, dw);
  for (let a = 0; a < kh; a++) {
    for (let b = 0; b < kw; b++) {
      for (let i = 0; i < ci; i++) {
        const s = ((i * gh + a) * gw + b) * co;
        dst.set(src.subarray(s, s + co), ((a * kw + b) * ci + i) * co);
      }
    }
  }
  free(backend, g);
  return dw;
}

function filterGradByMatMul(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: ConvInfo): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, OH, OW] = dy.shape;
  const { top: pt, left: pl } = info.padInfo;
  const K = B * OH * OW;
  const T = kh * kw * ci;

  const dyT = alloc(backend, [co, K]); // [K, co] -> [co, K]
  const cols = alloc(backend, [K, T]); // im2col: row (n,p,q), column (a,b,i)
  swapOuterInner(heap(backend, dy), K, 1, co, heap(backend, dyT));
  const xs = heap(backend, x);
  const cv = heap(backend, cols);
  let r = 0;
  for (let n = 0; n < B; n++) {
    for (let p = 0; p < OH; p++) {
      for (let q = 0; q < OW; q++) {
        for (let a = 0; a < kh; a++) {
          const h = p * sh + a - pt;
          for (let b = 0; b < kw; b++) {
            const w = q * sw + b - pl;
            if (h < 0 || h >= H || w < 0 || w >= W) {
              for (let i = 0; i < ci; i++) cv[r++] = 0;
            } else {
              const s = ((n * H + h) * W + w) * ci;
              for (let i = 0; i < ci; i++) cv[r++] = xs[s + i];
            }
          }
        }
      }
    }
  }
  const g = runWasmKernel(backend, 'BatchMatMul', { a: dyT, b: cols }, { transposeA: false, transposeB: false });
  free(backend, dyT);
  free(backend, cols);

  // [co, T] -> [T, co] = [kh, kw, ci, co].
  const dw = alloc(backend, [kh, kw, ci, co]);
  const src = heap(backend, g);
  const dst = heap(backend, dw);
  for (let o = 0; o < co; o++) {
    for (let t = 0; t < T; t++) dst[t * co + o] = src[o * T + t];
  }
  free(backend, g);
  return dw;
}

// ---------------------------------------------------------------------------
// Input gradient, as a transposed convolution split into stride phases.
//
// dx[h] = sum_{p,a : p*s + a = h + pt} dy[p] * w[a]. For the input rows h with
// (h + pt) mod s = r only the taps a = r, r+s, r+2s, ... contribute, and they
// form a stride-1 correlation of dy with that sub-filter, rotated 180 degrees
// and with in/out channels swapped. So each of the sh*sw phases is one stride-1
// XNNPACK convolution with exactly the multiply-adds it needs (no zero-dilated
// dy, which would waste 3/4 of the work at stride 2), and the phase outputs are
// interleaved into dx. At stride 1 there is one phase and its output is dx.
// ---------------------------------------------------------------------------

/** One spatial axis of a phase: which taps, which dy rows, and the padding of the phase convolution. */
interface AxisPhase {
  r: number; // phase: input positions h with (h + padBefore) mod stride = r
  taps: number; // number of filter taps a = r + stride*t
  first: number; // first output index m (h = m*stride + r - padBefore) the phase covers
  count: number; // how many input positions the phase covers
  padBefore: number; // padding of dy for the phase convolution (may be negative: unsupported)
  padAfter: number;
}

function axisPhases(inSize: number, filterSize: number, stride: number, padBefore: number, outSize: number): AxisPhase[] {
  const phases: AxisPhase[] = [];
  for (let r = 0; r < stride; r++) {
    const taps = r < filterSize ? Math.ceil((filterSize - r) / stride) : 0;
    const first = Math.ceil((padBefore - r) / stride);
    const last = Math.floor((padBefore + inSize - 1 - r) / stride);
    const count = Math.max(0, last - first + 1);
    const pBefore = taps - 1 - first;
    const pAfter = count + taps - 1 - outSize - pBefore;
    phases.push({ r, taps, first, count, padBefore: pBefore, padAfter: pAfter });
  }
  return phases;
}

// The backend's own kernel, kept as the fallback for paddings wider than the filter.
let naiveBackpropInput: KernelConfig | undefined;

function conv2DBackpropInputWasm(args: {
  inputs: { dy: TensorInfo; filter: TensorInfo };
  backend: BackendWasm;
  attrs: Conv2DBackpropInputAttrs;
}): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs;
  const info = convInfoFor(attrs.inputShape, filter.shape, attrs, 'Conv2DBackpropInput');
  if (directConvApplies(backend, info, 'input')) return conv2dBackpropInputDirect(backend, dy, filter, info);
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, OH, OW] = dy.shape;
  const rows = axisPhases(H, kh, sh, info.padInfo.top, OH);
  const cols = axisPhases(W, kw, sw, info.padInfo.left, OW);

  // Paddings larger than the filter (never used in practice) would need dy cropped:
  // leave those to the backend's own (slow but general) kernel.
  const unsupported = [...rows, ...cols].some((p) => p.taps > 0 && p.count > 0 && (p.padBefore < 0 || p.padAfter < 0));
  if (unsupported) {
    if (naiveBackpropInput == null) throw new Error('@qtdog/engine: no fallback Conv2DBackpropInput kernel');
    return naiveBackpropInput.kernelFunc({ inputs, backend, attrs: attrs as never }) as TensorInfo;
  }

  const single = sh === 1 && sw === 1;
  const dx = single ? undefined : alloc(backend, [B, H, W, ci]);
  const covered = rows.every((p) => p.taps > 0 || p.count === 0) && cols.every((p) => p.taps > 0 || p.count === 0);
  if (dx != null && !covered) heap(backend, dx).fill(0);

  for (const py of rows) {
    if (py.taps === 0 || py.count === 0) continue;
    for (const px of cols) {
      if (px.taps === 0 || px.count === 0) continue;
      // Sub-filter g[u, v, o, i] = w[py.r + sh*(Ty-1-u), px.r + sw*(Tx-1-v), i, o].
      const g = alloc(backend, [py.taps, px.taps, co, ci]);
      const w = heap(backend, filter);
      const gv = heap(backend, g);
      let k = 0;
      for (let u = 0; u < py.taps; u++) {
        const a = py.r + sh * (py.taps - 1 - u);
        for (let v = 0; v < px.taps; v++) {
          const b = px.r + sw * (px.taps - 1 - v);
          const base = (a * kw + b) * ci * co;
          for (let o = 0; o < co; o++) {
            for (let i = 0, s = base + o; i < ci; i++, s += co) gv[k++] = w[s];
          }
        }
      }
      const pad: Conv2DAttrs['pad'] = [[0, 0], [py.padBefore, py.padAfter], [px.padBefore, px.padAfter], [0, 0]];
      const part = xnnpackConv2D(backend, { x: dy, filter: g }, { strides: 1, dilations: 1, pad, dataFormat: 'NHWC' });
      free(backend, g);
      if (single) return part; // [B, H, W, ci] already

      // Scatter the phase rows/columns into dx.
      const src = heap(backend, part);
      const dst = heap(backend, dx!);
      const h0 = py.first * sh + py.r - info.padInfo.top;
      const w0 = px.first * sw + px.r - info.padInfo.left;
      let s = 0;
      for (let n = 0; n < B; n++) {
        for (let m = 0; m < py.count; m++) {
          let d = ((n * H + h0 + m * sh) * W + w0) * ci;
          for (let q = 0; q < px.count; q++, s += ci, d += sw * ci) {
            dst.set(src.subarray(s, s + ci), d);
          }
        }
      }
      free(backend, part);
    }
  }
  if (dx == null) {
    // Stride 1 with no usable tap (cannot happen for a real filter): all zeros.
    const z = alloc(backend, [B, H, W, ci]);
    heap(backend, z).fill(0);
    return z;
  }
  return dx;
}

// ---------------------------------------------------------------------------
// Forward convolution: the direct kernel where the filter is large and the output small (it reads
// the filter in place; XNNPACK packs every new filter first, direct-conv.ts), else XNNPACK's.
// ---------------------------------------------------------------------------

// tfjs-backend-wasm's own (XNNPACK) Conv2D, which ours falls back to and the gradients above call.
let xnnpackConv2DConfig: KernelConfig | undefined;

function xnnpackConv2D(backend: BackendWasm, inputs: { x: TensorInfo; filter: TensorInfo }, attrs: Partial<Conv2DAttrs>): TensorInfo {
  const kernel = xnnpackConv2DConfig;
  if (kernel == null) throw new Error("@qtdog/engine: tfjs-backend-wasm's own Conv2D kernel was not found when the training kernels were registered.");
  return kernel.kernelFunc({ inputs, backend, attrs: attrs as never }) as TensorInfo;
}

function conv2DWasm(args: { inputs: { x: TensorInfo; filter: TensorInfo }; backend: BackendWasm; attrs: Conv2DAttrs }): TensorInfo {
  const { inputs, backend, attrs } = args;
  // The whole geometry, dilations and layout included: directConvApplies turns down what it cannot do.
  const info = backend_util.computeConv2DInfo(
    inputs.x.shape as [number, number, number, number],
    inputs.filter.shape as [number, number, number, number],
    attrs.strides,
    attrs.dilations,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat),
  );
  if (directConvApplies(backend, info, 'forward')) return conv2dDirect(backend, inputs.x, inputs.filter, info);
  return xnnpackConv2D(backend, inputs, attrs);
}

const forwardConfig: KernelConfig = {
  kernelName: Conv2D,
  backendName: 'wasm',
  kernelFunc: conv2DWasm as unknown as KernelFunc,
  setupFunc: (backend) => xnnpackConv2DConfig?.setupFunc?.(backend),
};

const filterConfig: KernelConfig = {
  kernelName: Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc,
};
const inputConfig: KernelConfig = {
  kernelName: Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: conv2DBackpropInputWasm as unknown as KernelFunc,
  // The engine sets up only registered kernels: set up the replaced one for the fallback.
  setupFunc: (backend) => naiveBackpropInput?.setupFunc?.(backend),
};

/**
 * Registers, for the 'wasm' backend, a Conv2DBackpropFilter kernel (missing in
 * tfjs-backend-wasm) and a fast Conv2DBackpropInput kernel replacing the naive
 * one (and the fused GroupNorm kernels, a Sum and a Mean that reduce all-but-last axes
 * without a transpose: bias gradients, BatchNorm statistics; a one-pass MaxPoolGrad; an
 * Identity that shares its input's buffer instead of copying it; the fused Adam step). Runs once per thread. Call it before
 * `tf.setBackend('wasm')` (it also works after).
 */
let registered = false;

export function registerWasmTrainingKernels(): void {
  // Once per thread: other kernels (the native oneDNN ones) may since sit on top of these, and
  // registering again would take them for the wasm kernels to fall back to.
  if (registered) return;
  registered = true;
  registerGroupNormKernels();
  registerLeadingAxesReduceKernels();
  registerMaxPoolGradKernel();
  registerSharedIdentityKernel();
  registerAdamKernels();
  naiveBackpropInput = replaceKernel(inputConfig) ?? naiveBackpropInput;
  xnnpackConv2DConfig = replaceKernel(forwardConfig) ?? xnnpackConv2DConfig;
  replaceKernel(filterConfig);
}
