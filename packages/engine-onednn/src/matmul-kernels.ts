// BatchMatMul (tf.matMul) and _FusedMatMul (bias, ReLU) on oneDNN. Batch dimensions must match,
// or one side's must all be 1 (broadcast); anything else stays on wasm.
import { BatchMatMul, _FusedMatMul, util, type BatchMatMulAttrs, type _FusedMatMulAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { OneDnnAddon } from './native-addon';
import { heapOf, offsetOf } from './wasm-heap';
import { intoNewOutput } from './native-call';
import { installKernel, type KernelArgs } from './kernel-slot';

type MatMulInputs = { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };

interface MatMulPlan {
  geometry: Int32Array;
  outShape: number[];
}

/** The geometry native/matmul.h reads, or a reason to stay on wasm. */
function plan(a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): MatMulPlan | string {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return `dtype ${a.dtype}/${b.dtype}`;
  if (a.shape.length < 2 || b.shape.length < 2) return 'rank below 2';
  const m = transposeA ? a.shape.at(-1)! : a.shape.at(-2)!;
  const k = transposeA ? a.shape.at(-2)! : a.shape.at(-1)!;
  const n = transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
  const batchDimsA = a.shape.slice(0, -2);
  const batchDimsB = b.shape.slice(0, -2);
  const batchA = util.sizeFromShape(batchDimsA);
  const batchB = util.sizeFromShape(batchDimsB);
  let outBatch: number[];
  if (batchDimsA.length === batchDimsB.length && batchDimsA.every((d, i) => d === batchDimsB[i])) outBatch = batchDimsA;
  else if (batchB === 1 && batchDimsB.length <= batchDimsA.length) outBatch = batchDimsA;
  else if (batchA === 1 && batchDimsA.length <= batchDimsB.length) outBatch = batchDimsB;
  else return `batch shapes [${batchDimsA}] and [${batchDimsB}]`;
  if (m * n * k === 0) return 'empty tensor';
  return {
    geometry: Int32Array.from([batchA, batchB, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0]),
    outShape: [...outBatch, m, n],
  };
}

export function installMatMulKernels(addon: OneDnnAddon): void {
  const run = (
    args: KernelArgs<MatMulInputs, BatchMatMulAttrs>,
    bias: TensorInfo | undefined,
    relu: boolean,
    fallback: (r: string) => TensorInfo,
  ): TensorInfo => {
    const { a, b } = args.inputs;
    const p = plan(a, b, args.attrs.transposeA, args.attrs.transposeB);
    if (typeof p === 'string') return fallback(p);
    const be = args.backend;
    return intoNewOutput(be, p.outShape, (c) => addon.matMul(heapOf(be), p.geometry, offsetOf(be, a), offsetOf(be, b), bias ? offsetOf(be, bias) : -1, offsetOf(be, c), relu), fallback);
  };

  installKernel<MatMulInputs, BatchMatMulAttrs>(BatchMatMul, (args, fallback) => run(args, undefined, false, fallback));

  installKernel<MatMulInputs, _FusedMatMulAttrs>(_FusedMatMul, (args, fallback) => {
    const { bias, preluActivationWeights, b } = args.inputs;
    const { activation } = args.attrs;
    if (activation !== 'linear' && activation !== 'relu') return fallback(`activation ${activation}`);
    if (preluActivationWeights != null) return fallback('prelu weights');
    const n = args.attrs.transposeB ? b.shape.at(-2)! : b.shape.at(-1)!;
    if (bias != null && (bias.dtype !== 'float32' || util.sizeFromShape(bias.shape) !== n || bias.shape.at(-1) !== n)) return fallback(`bias of shape [${bias.shape}]`);
    return run(args, bias, activation === 'relu', fallback);
  });
}
