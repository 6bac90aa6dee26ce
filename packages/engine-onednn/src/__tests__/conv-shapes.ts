// Every convolution shape of MNIST_CNN, ResNet-18 and ResNet-50 (channels, kernel, stride,
// padding as the networks use them), at small spatial sizes where the cpu reference would be slow.
export type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
export interface ConvCase {
  name: string;
  b: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  s: number;
  pad: Pad;
}

const resnetPad = (k: number): Pad => (k === 1 ? 'valid' : [[0, 0], [(k - 1) >> 1, (k - 1) >> 1], [(k - 1) >> 1, (k - 1) >> 1], [0, 0]]);

export const CONV_CASES: ConvCase[] = [
  // MNIST_CNN (packages/networks/src/mnist-cnn.ts): 3x3 'same', conv2 stride 2 (conv1 at 28x28).
  { name: 'MNIST_CNN conv1', b: 2, h: 28, w: 28, ci: 1, co: 64, k: 3, s: 1, pad: 'same' },
  { name: 'MNIST_CNN conv2', b: 1, h: 16, w: 16, ci: 64, co: 128, k: 3, s: 2, pad: 'same' },
  { name: 'MNIST_CNN conv3/4', b: 1, h: 10, w: 10, ci: 128, co: 128, k: 3, s: 1, pad: 'same' },
  // ResNet-18/50 (packages/networks/src/resnet.ts): explicit symmetric padding, 1x1 'valid'.
  { name: 'ResNet stem 7x7/2', b: 2, h: 16, w: 16, ci: 3, co: 64, k: 7, s: 2, pad: resnetPad(7) },
  { name: 'ResNet-18 3x3 64', b: 3, h: 8, w: 8, ci: 64, co: 64, k: 3, s: 1, pad: resnetPad(3) },
  { name: 'ResNet-18 3x3/2 64->128', b: 1, h: 8, w: 8, ci: 64, co: 128, k: 3, s: 2, pad: resnetPad(3) },
  { name: 'ResNet downsample 1x1/2 64->128', b: 2, h: 8, w: 8, ci: 64, co: 128, k: 1, s: 2, pad: resnetPad(1) },
  { name: 'ResNet-18 3x3 512', b: 1, h: 2, w: 2, ci: 512, co: 512, k: 3, s: 1, pad: resnetPad(3) },
  { name: 'ResNet-50 1x1 256->64', b: 2, h: 8, w: 8, ci: 256, co: 64, k: 1, s: 1, pad: resnetPad(1) },
  { name: 'ResNet-50 3x3/2 128', b: 1, h: 8, w: 8, ci: 128, co: 128, k: 3, s: 2, pad: resnetPad(3) },
  { name: 'ResNet-50 1x1 64->256', b: 2, h: 8, w: 8, ci: 64, co: 256, k: 1, s: 1, pad: resnetPad(1) },
  { name: 'ResNet-50 downsample 1x1/2 512->1024', b: 1, h: 4, w: 4, ci: 512, co: 1024, k: 1, s: 2, pad: resnetPad(1) },
  // TensorFlow padding modes beyond the networks': 'valid' 3x3 with a left-over row, 'same' 7x7.
  { name: "3x3/2 'valid', odd size", b: 2, h: 9, w: 11, ci: 8, co: 16, k: 3, s: 2, pad: 'valid' },
  { name: "7x7/2 'same'", b: 1, h: 12, w: 12, ci: 4, co: 8, k: 7, s: 2, pad: 'same' },
  { name: '3x3 explicit pad 2', b: 1, h: 9, w: 9, ci: 8, co: 8, k: 3, s: 1, pad: 2 },
];
