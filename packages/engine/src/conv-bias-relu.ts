// relu(conv2d(x, w) + bias), the block of MNIST_CNN. With the native kernels on it is one fused
// convolution (bias and ReLU as oneDNN post-ops: the activations are written once instead of three
// times); on pure wasm it stays three ops, which keep our own wasm convolution kernels in use
// (tfjs-backend-wasm's fused convolution would bypass them).
import * as tf from '@tensorflow/tfjs-core';
import { nativeKernels } from './native-kernels';

type Pad = 'valid' | 'same' | number | [[number, number], [number, number], [number, number], [number, number]];

export function conv2dBiasRelu(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor, strides: number, pad: Pad): tf.Tensor4D {
  if (nativeKernels() != null && tf.getBackend() === 'wasm') {
    return tf.fused.conv2d({ x, filter: w, strides, pad, bias, activation: 'relu' });
  }
  return tf.tidy(() => tf.relu(tf.add(tf.conv2d(x, w, strides, pad), bias)) as tf.Tensor4D);
}
