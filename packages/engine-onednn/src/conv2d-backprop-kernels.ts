// Both gradients of a convolution on oneDNN: Conv2DBackpropInput (backward data) and
// Conv2DBackpropFilter (backward weights, written straight into TensorFlow's HWIO layout).
import {
  Conv2DBackpropFilter,
  Conv2DBackpropInput,
  type Conv2DBackpropFilterAttrs,
  type Conv2DBackpropInputAttrs,
  type TensorInfo,
} from '@tensorflow/tfjs-core';
import type { OneDnnAddon } from './native-addon';
import { conv2DInfo, convGeometry, unsupportedConv } from './conv-geometry';
import { heapOf, offsetOf } from './wasm-heap';
import { intoNewOutput } from './native-call';
import { installKernel } from './kernel-slot';

export function installConv2DBackpropKernels(addon: OneDnnAddon): void {
  installKernel<{ dy: TensorInfo; filter: TensorInfo }, Conv2DBackpropInputAttrs>(Conv2DBackpropInput, (args, fallback) => {
    const { dy, filter } = args.inputs;
    const info = conv2DInfo(args.attrs.inputShape, filter.shape, args.attrs);
    const why = unsupportedConv(info, [dy.dtype, filter.dtype]);
    if (why) return fallback(why);
    const b = args.backend;
    return intoNewOutput(b, info.inShape, (dx) => addon.conv2dBackwardData(heapOf(b), convGeometry(info), offsetOf(b, dy), offsetOf(b, filter), offsetOf(b, dx)), fallback);
  });

  installKernel<{ x: TensorInfo; dy: TensorInfo }, Conv2DBackpropFilterAttrs>(Conv2DBackpropFilter, (args, fallback) => {
    const { x, dy } = args.inputs;
    const info = conv2DInfo(x.shape, args.attrs.filterShape, args.attrs);
    const why = unsupportedConv(info, [x.dtype, dy.dtype]);
    if (why) return fallback(why);
    const b = args.backend;
    return intoNewOutput(b, info.filterShape, (dw) => addon.conv2dBackwardWeights(heapOf(b), convGeometry(info), offsetOf(b, x), offsetOf(b, dy), offsetOf(b, dw), -1), fallback);
  });
}
