// Conv2D and _FusedConv2D (bias, ReLU) on oneDNN, reading and writing the wasm heap in place.
import { Conv2D, FusedConv2D, util, type Conv2DAttrs, type FusedConv2DAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { OneDnnAddon } from './native-addon';
import { conv2DInfo, convGeometry, unsupportedConv } from './conv-geometry';
import { heapOf, offsetOf } from './wasm-heap';
import { intoNewOutput } from './native-call';
import { installKernel, type KernelArgs } from './kernel-slot';

type ConvInputs = { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };

export function installConv2DKernels(addon: OneDnnAddon): void {
  const run = (args: KernelArgs<ConvInputs, Conv2DAttrs>, bias: TensorInfo | undefined, relu: boolean, fallback: (r: string) => TensorInfo) => {
    const { x, filter } = args.inputs;
    const info = conv2DInfo(x.shape, filter.shape, args.attrs);
    const why = unsupportedConv(info, [x.dtype, filter.dtype, ...(bias ? [bias.dtype] : [])]);
    if (why) return fallback(why);
    const b = args.backend;
    return intoNewOutput(
      b,
      info.outShape,
      (y) => addon.conv2d(heapOf(b), convGeometry(info), offsetOf(b, x), offsetOf(b, filter), bias ? offsetOf(b, bias) : -1, offsetOf(b, y), relu),
      fallback,
    );
  };

  installKernel<ConvInputs, Conv2DAttrs>(Conv2D, (args, fallback) => run(args, undefined, false, fallback));

  installKernel<ConvInputs, FusedConv2DAttrs>(FusedConv2D, (args, fallback) => {
    const { bias, preluActivationWeights, filter } = args.inputs;
    const { activation } = args.attrs;
    if (activation !== 'linear' && activation !== 'relu') return fallback(`activation ${activation}`);
    if (preluActivationWeights != null) return fallback('prelu weights');
    const co = filter.shape[3];
    if (bias != null && (util.sizeFromShape(bias.shape) !== co || bias.shape.length !== 1)) return fallback(`bias of shape [${bias.shape}]`);
    return run(args, bias, activation === 'relu', fallback);
  });
}
