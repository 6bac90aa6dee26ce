import { z } from 'zod';
import { definePlugin, type DomainDataset } from '@qtdog/core';
import { createColoredDataset } from './colored-mnist.js';
import { fashionMnistDir, loadFashionMnist } from './fashion-mnist-files.js';
import { mnistSourceOptionFields, type MnistSourceOptions } from './multi-domain-mnist.js';

/**
 * ColoredMNIST's recipe on all 70,000 Fashion-MNIST images: binary label = class < 5 (T-shirt/top,
 * Trouser, Pullover, Dress, Coat) with 25% label noise, colour correlated with it 90%, 80%, 10%.
 */
export function createColoredFashionMnist(options: MnistSourceOptions, baseDir?: string): DomainDataset {
  return createColoredDataset(
    'ColoredFashionMNIST',
    options,
    () => loadFashionMnist(fashionMnistDir(options.dataDir, baseDir)),
    'colored-fashion-mnist',
  );
}

export const coloredFashionMnistPlugin = definePlugin({
  kind: 'dataset',
  name: 'ColoredFashionMNIST',
  description: 'Fashion-MNIST (arXiv:1708.07747) with a colour spuriously correlated with a binary label, as ColoredMNIST',
  options: z.object({ ...mnistSourceOptionFields }),
  create(options, ctx) {
    return createColoredFashionMnist(options, ctx.baseDir);
  },
});
