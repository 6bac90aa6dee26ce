import { resolve } from 'node:path';
import { z } from 'zod';
import { definePlugin, Rng, seedHash, type DomainDataset, type EnvironmentData } from '@qtdog/core';
import { loadMnistDigits, MNIST_HEIGHT, MNIST_PIXELS, MNIST_WIDTH } from './mnist-digits.js';
import {
  buildMultiDomainEnvironments,
  mnistSourceOptionFields,
  type EnvironmentExamples,
  type GrayImageSource,
  type MnistSourceOptions,
} from './multi-domain-mnist.js';

export const COLORED_MNIST_ENVIRONMENTS = ['+90%', '+80%', '-90%'] as const;
/** Colour-flip probability e of each environment: colour agrees with the label with probability 1-e. */
export const COLORED_MNIST_COLOR_FLIP = [0.1, 0.2, 0.9] as const;
/** Label noise: the binary label is flipped with this probability, so the digit explains 75%. */
export const COLORED_MNIST_LABEL_FLIP = 0.25;

/**
 * DomainBed's `color_dataset` (after IRM, arXiv:1907.02893) for one environment:
 * label = (class < 5) XOR Bernoulli(0.25); colour = label XOR Bernoulli(e); the image is copied into
 * 2 channels (NHWC) and channel (1 - colour) is zeroed. Our images are already in [0, 1], so
 * DomainBed's `/ 255` is not applied again. Label flips are drawn for all images first, then colour
 * flips, as DomainBed does.
 */
export function colorDigits(
  images: Float32Array,
  digits: Int32Array,
  n: number,
  colorFlip: number,
  rng: Rng,
  pixels = MNIST_PIXELS,
): EnvironmentExamples & { colors: Int32Array } {
  const y = new Int32Array(n);
  const colors = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = (digits[i]! < 5 ? 1 : 0) ^ (rng.bernoulli(COLORED_MNIST_LABEL_FLIP) ? 1 : 0);
  for (let i = 0; i < n; i++) colors[i] = y[i]! ^ (rng.bernoulli(colorFlip) ? 1 : 0);
  const x = new Float32Array(n * pixels * 2);
  for (let i = 0; i < n; i++) {
    const c = colors[i]!;
    for (let p = 0; p < pixels; p++) x[(i * pixels + p) * 2 + c] = images[i * pixels + p]!;
  }
  return { x, y, colors };
}

/**
 * A coloured multi-domain dataset over 28x28 grayscale images with 10 classes (DomainBed's
 * ColoredMNIST recipe on any source): 3 environments where colour predicts the binary label
 * (class < 5) 90%, 80%, 10% of the time. `seedKey` keeps MNIST's colour draws as they were.
 */
export function createColoredDataset(name: string, options: MnistSourceOptions, loadSource: () => GrayImageSource, seedKey: string): DomainDataset {
  let loading: Promise<EnvironmentData[]> | undefined;
  return {
    name,
    environments: [...COLORED_MNIST_ENVIRONMENTS],
    inputShape: [MNIST_HEIGHT, MNIST_WIDTH, 2],
    numClasses: 2,
    load() {
      loading ??= Promise.resolve().then(() =>
        buildMultiDomainEnvironments(COLORED_MNIST_ENVIRONMENTS, loadSource(), MNIST_PIXELS, options, (images, labels, n, e) => {
          // Own stream per environment, from the dataset seed: environments do not depend on each other.
          const rng = new Rng(seedHash(seedKey, options.seed, e));
          const { x, y } = colorDigits(images, labels, n, COLORED_MNIST_COLOR_FLIP[e]!, rng);
          return { x, y };
        }),
      );
      return loading;
    },
  };
}

/** DomainBed's ColoredMNIST: 3 environments where colour predicts the label 90%, 80%, 10% of the time. */
export function createColoredMnist(options: MnistSourceOptions, baseDir?: string): DomainDataset {
  const dir = options.dataDir === undefined ? undefined : resolve(baseDir ?? process.cwd(), options.dataDir);
  return createColoredDataset('ColoredMNIST', options, () => loadMnistDigits(dir), 'colored-mnist');
}

export const coloredMnistPlugin = definePlugin({
  kind: 'dataset',
  name: 'ColoredMNIST',
  description: 'MNIST with a colour that is spuriously correlated with a binary label (IRM arXiv:1907.02893; DomainBed)',
  options: z.object({ ...mnistSourceOptionFields }),
  create(options, ctx) {
    return createColoredMnist(options, ctx.baseDir);
  },
});
