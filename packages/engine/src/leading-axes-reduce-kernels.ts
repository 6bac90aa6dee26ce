// wasm Sum and Mean kernels for one common case: a float32 tensor reduced over all axes but the last.
//
// That is the gradient of every bias added to an NHWC activation (tf.add's broadcast gradient
// sums dy over [0, 1, 2]) and BatchNorm's batch statistics (tf.moments over [0, 1, 2]).
// tfjs-backend-wasm's Sum and Mean only reduce innermost axes, so for this case they first
// transpose the whole activation to [C, N*H*W] with their slow strided Transpose and then reduce
// the rows: measured 18.9 ms for an 80x28x28x64 gradient, where one sequential pass that adds
// each row of C values into C accumulators reads the data once. Every other Sum or Mean goes to
// the backend's own kernel.
import '@tensorflow/tfjs-backend-wasm'; // its kernels must be registered before ours replace one
import { Mean, Sum, util, type KernelConfig, type KernelFunc, type SumAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alloc, heap, replaceKernel } from './wasm-kernel-utils';

let backendSum: KernelConfig | undefined;
let backendMean: KernelConfig | undefined;

/** True when `axis` names exactly the axes 0 .. rank-2 (in any order, negatives allowed). */
function isAllButLast(axis: number | number[], rank: number): boolean {
  const axes = util.parseAxisParam(axis, new Array(rank).fill(1));
  if (rank < 2 || axes.length !== rank - 1) return false;
  const seen = new Set(axes);
  for (let a = 0; a < rank - 1; a++) if (!seen.has(a)) return false;
  return true;
}

type ReduceArgs = { inputs: { x: TensorInfo }; backend: BackendWasm; attrs: SumAttrs };

/** Whether this kernel handles the call itself (else the backend's own kernel does). */
function handles({ inputs: { x }, attrs }: ReduceArgs): boolean {
  return x.dtype === 'float32' && isAllButLast(attrs.axis, x.shape.length) && util.sizeFromShape(x.shape) > 0;
}

/** The sum over all axes but the last, times `scale`, into a new output. */
function reduceLeading({ inputs: { x }, backend, attrs }: ReduceArgs, scale: number): TensorInfo {
  const rank = x.shape.length;
  const c = x.shape[rank - 1]!;
  const rows = util.sizeFromShape(x.shape) / c;
  const out = alloc(backend, attrs.keepDims ? [...new Array(rank - 1).fill(1), c] : [c]);
  const src = heap(backend, x);
  // float64 accumulators: no worse than the backend's float32 sum, and independent of row order.
  const acc = new Float64Array(c);
  // Four rows per pass: a quarter of the accumulator traffic.
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const s0 = r * c;
    const s1 = s0 + c;
    const s2 = s1 + c;
    const s3 = s2 + c;
    for (let k = 0; k < c; k++) acc[k] += src[s0 + k]! + src[s1 + k]! + (src[s2 + k]! + src[s3 + k]!);
  }
  for (; r < rows; r++) {
    const s0 = r * c;
    for (let k = 0; k < c; k++) acc[k] += src[s0 + k]!;
  }
  if (scale !== 1) for (let k = 0; k < c; k++) acc[k] *= scale;
  heap(backend, out).set(acc);
  return out;
}

function sumWasm(args: ReduceArgs): TensorInfo {
  if (handles(args)) return reduceLeading(args, 1);
  if (backendSum == null) throw new Error('@qtdog/engine: no fallback Sum kernel');
  return backendSum.kernelFunc(args as never) as TensorInfo;
}

function meanWasm(args: ReduceArgs): TensorInfo {
  const { x } = args.inputs;
  if (handles(args)) return reduceLeading(args, x.shape[x.shape.length - 1]! / util.sizeFromShape(x.shape));
  if (backendMean == null) throw new Error('@qtdog/engine: no fallback Mean kernel');
  return backendMean.kernelFunc(args as never) as TensorInfo;
}

const sumConfig: KernelConfig = {
  kernelName: Sum,
  backendName: 'wasm',
  kernelFunc: sumWasm as unknown as KernelFunc,
  // The engine sets up only registered kernels: set up the replaced one for the fallback.
  setupFunc: (backend) => backendSum?.setupFunc?.(backend),
};

const meanConfig: KernelConfig = {
  kernelName: Mean,
  backendName: 'wasm',
  kernelFunc: meanWasm as unknown as KernelFunc,
  setupFunc: (backend) => backendMean?.setupFunc?.(backend),
};

/** Replaces the wasm Sum and Mean kernels with ones that handle the all-but-last-axes case themselves. Idempotent. */
export function registerLeadingAxesReduceKernels(): void {
  backendSum = replaceKernel(sumConfig) ?? backendSum;
  backendMean = replaceKernel(meanConfig) ?? backendMean;
}
