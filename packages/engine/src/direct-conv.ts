// Convolutions with large filters and small outputs on our own wasm SIMD kernel
// (packages/engine/assembly/conv2d-direct.ts): the forward pass and the input gradient.
//
// XNNPACK, as tfjs-backend-wasm calls it, lays out and packs each new filter before its first use.
// A training step brings new filters every time, so each forward convolution and each input
// gradient pays that packing. Where the filter is large and the output has few pixels (ResNet-18's
// 3x3 512->512 at 2x2 outputs), the packing costs more than the arithmetic. The direct kernel reads
// the filter in place. Where the output has many pixels, XNNPACK's packed GEMM is faster and the
// packing is spread over them, so it keeps those (`directConvApplies`).
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { BackendMemoryModule, heapOffset } from './backend-memory-module';
import { CONV2D_DIRECT_WASM } from './generated/conv2d-direct-wasm';
import { alloc, free, heap } from './wasm-kernel-utils';

type ConvFn = (
  x: number, w: number, out: number, zero: number, pack: number,
  N: number, H: number, W: number, CI: number, OH: number, OW: number, CO: number,
  KH: number, KW: number, sh: number, sw: number, pt: number, pl: number,
) => void;
interface DirectConvExports {
  conv2dForward: ConvFn;
  conv2dBackpropInput: ConvFn;
}
const direct = new BackendMemoryModule<DirectConvExports>(CONV2D_DIRECT_WASM);

/** When the direct kernel runs: by the size rule ('auto'), wherever its shapes allow ('always'), or never. */
export type DirectConvMode = 'auto' | 'always' | 'never';

// QTDOG_WASM_DIRECT_CONV=never|always overrides the rule (benchmarks compare; it reaches
// data-parallel workers too).
const fromEnv = typeof process !== 'undefined' ? process.env?.QTDOG_WASM_DIRECT_CONV : undefined;
let mode: DirectConvMode = fromEnv === 'never' || fromEnv === 'always' ? fromEnv : 'auto';

/** Selects when the direct kernel runs, for this thread (benchmarks and tests). */
export function setDirectConvMode(m: DirectConvMode): void {
  mode = m;
}

/** The current mode. */
export function directConvMode(): DirectConvMode {
  return mode;
}

/**
 * The size rule for 'auto', measured with tools/bench/conv-shapes.mjs (docs/benchmarks.md): the
 * direct kernel takes convolutions whose output has at most DIRECT_MAX_PIXELS pixels (batch x
 * height x width) and whose filter has at least DIRECT_MIN_FILTER weights. There the packing
 * XNNPACK does first is a large part of its time, and the direct kernel was as fast or faster in
 * every ResNet-18 shape. With more pixels the two were even (MNIST_CNN); with small filters
 * (1x1 64->128) XNNPACK was faster.
 */
export const DIRECT_MAX_PIXELS = 4096;
export const DIRECT_MIN_FILTER = 32768;

/**
 * Whether the direct kernel computes this convolution's forward pass ('forward', needs
 * CO % 8 == 0) or input gradient ('input', needs CI % 4 == 0 and CO % 4 == 0): dilation 1, NHWC,
 * and under 'auto' the size rule above.
 */
export function directConvApplies(backend: BackendWasm, info: backend_util.Conv2DInfo, kind: 'forward' | 'input'): boolean {
  if (mode === 'never') return false;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1 || info.dataFormat !== 'channelsLast') return false;
  const fits = kind === 'forward' ? info.outChannels % 8 === 0 : info.inChannels % 4 === 0 && info.outChannels % 4 === 0;
  if (!fits) return false;
  if (mode === 'auto') {
    const pixels = info.batchSize * info.outHeight * info.outWidth;
    const weights = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
    if (pixels > DIRECT_MAX_PIXELS || weights < DIRECT_MIN_FILTER) return false;
  }
  return direct.on(backend) != null;
}

function run(backend: BackendWasm, fn: 'conv2dForward' | 'conv2dBackpropInput', a: TensorInfo, w: TensorInfo, outShape: number[], info: backend_util.Conv2DInfo): TensorInfo {
  const k = direct.on(backend)!;
  const out = alloc(backend, outShape);
  // Zeros that stand for the padding (and for missing pixels of a last tile): one row of either operand.
  const zero = alloc(backend, [Math.max(info.inChannels, info.outChannels) + 8]);
  // Scratch for one 8-channel column block of the filter, which the forward kernel copies contiguous.
  const pack = alloc(backend, [fn === 'conv2dForward' ? info.filterHeight * info.filterWidth * info.inChannels * 8 : 1]);
  heap(backend, zero).fill(0);
  const at = (t: TensorInfo) => heapOffset(backend, t);
  k[fn](
    at(a), at(w), at(out), at(zero), at(pack),
    info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth, info.padInfo.top, info.padInfo.left,
  );
  free(backend, zero);
  free(backend, pack);
  return out;
}

/** conv2d(x, w) [B, OH, OW, CO] on the direct kernel (check `directConvApplies(..., 'forward')` first). */
export function conv2dDirect(backend: BackendWasm, x: TensorInfo, w: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  return run(backend, 'conv2dForward', x, w, [info.batchSize, info.outHeight, info.outWidth, info.outChannels], info);
}

/** dx [B, H, W, CI] of conv2d on the direct kernel (check `directConvApplies(..., 'input')` first). */
export function conv2dBackpropInputDirect(backend: BackendWasm, dy: TensorInfo, w: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  return run(backend, 'conv2dBackpropInput', dy, w, [info.batchSize, info.inHeight, info.inWidth, info.inChannels], info);
}
