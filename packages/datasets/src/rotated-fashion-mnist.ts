import { z } from 'zod';
import { definePlugin, type DomainDataset } from '@qtdog/core';
import { fashionMnistDir, loadFashionMnist } from './fashion-mnist-files.js';
import { createRotatedDataset, rotatedOptionFields, type RotatedMnistOptions } from './rotated-mnist.js';

/**
 * RotatedMNIST's recipe on all 70,000 Fashion-MNIST images (Xiao et al., arXiv:1708.07747): one
 * environment per angle (0-75 degrees by default), 10 classes. The IDX files come from `dataDir`,
 * $QTDOG_FASHION_MNIST_DIR or Debian's `dataset-fashion-mnist`, in that order.
 */
/** Fashion-MNIST's classes, by index (Xiao et al.). */
export const FASHION_MNIST_CLASS_NAMES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'] as const;

export function createRotatedFashionMnist(options: RotatedMnistOptions, baseDir?: string): DomainDataset {
  return createRotatedDataset('RotatedFashionMNIST', options, () => loadFashionMnist(fashionMnistDir(options.dataDir, baseDir)), FASHION_MNIST_CLASS_NAMES);
}

export const rotatedFashionMnistPlugin = definePlugin({
  kind: 'dataset',
  name: 'RotatedFashionMNIST',
  description: 'Fashion-MNIST (70,000 images; arXiv:1708.07747) rotated 0-75 degrees, one environment per angle, as RotatedMNIST',
  options: z.object(rotatedOptionFields),
  create(options, ctx) {
    return createRotatedFashionMnist(options, ctx.baseDir);
  },
});
