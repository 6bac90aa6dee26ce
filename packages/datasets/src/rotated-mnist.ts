import { resolve } from 'node:path';
import { z } from 'zod';
import { definePlugin, type DomainDataset, type EnvironmentData } from '@qtdog/core';
import { loadMnistDigits, MNIST_HEIGHT, MNIST_PIXELS, MNIST_WIDTH } from './mnist-digits.js';
import { buildMultiDomainEnvironments, mnistSourceOptionFields, type GrayImageSource, type MnistSourceOptions } from './multi-domain-mnist.js';
import { rotateImage } from './rotate-image.js';

/** MNIST's classes, by index. */
export const MNIST_CLASS_NAMES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'] as const;

export const ROTATED_MNIST_ANGLES = [0, 15, 30, 45, 60, 75] as const;

export interface RotatedMnistOptions extends MnistSourceOptions {
  angles: readonly number[];
}

/** The options of every rotated dataset: the angles, then the source options. */
export const rotatedOptionFields = {
  /** Rotation of each environment, degrees counter-clockwise. */
  angles: z
    .array(z.number())
    .min(1)
    .refine((a) => new Set(a).size === a.length, 'angles must be distinct (each names an environment)')
    .default([...ROTATED_MNIST_ANGLES]),
  ...mnistSourceOptionFields,
};

/**
 * A rotated multi-domain dataset over 28x28 grayscale images (DomainBed's RotatedMNIST recipe on any
 * source): one environment per angle, images rotated bilinearly with fill 0, 10 classes.
 */
export function createRotatedDataset(
  name: string,
  options: RotatedMnistOptions,
  loadSource: () => GrayImageSource,
  classNames: readonly string[] = MNIST_CLASS_NAMES,
): DomainDataset {
  const angles = [...options.angles];
  let loading: Promise<EnvironmentData[]> | undefined;
  return {
    name,
    // DomainBed names environments by their angle.
    environments: angles.map(String),
    inputShape: [MNIST_HEIGHT, MNIST_WIDTH, 1],
    numClasses: 10,
    classNames,
    preprocessing: { size: [MNIST_HEIGHT, MNIST_WIDTH], resize: false, channels: 1, mean: [0], std: [1] },
    load() {
      // Rotating is done once per dataset instance; later loads share the result.
      loading ??= Promise.resolve().then(() =>
        buildMultiDomainEnvironments(angles.map(String), loadSource(), MNIST_PIXELS, options, (images, labels, n, e) => {
          const angle = angles[e]!;
          if (angle % 360 !== 0) {
            for (let i = 0; i < n; i++) {
              const img = images.subarray(i * MNIST_PIXELS, (i + 1) * MNIST_PIXELS);
              img.set(rotateImage(img, MNIST_HEIGHT, MNIST_WIDTH, angle));
            }
          }
          return { x: images, y: labels };
        }),
      );
      return loading;
    },
  };
}

/** DomainBed's RotatedMNIST: one environment per angle, digits rotated bilinearly with fill 0. */
export function createRotatedMnist(options: RotatedMnistOptions, baseDir?: string): DomainDataset {
  const dir = options.dataDir === undefined ? undefined : resolve(baseDir ?? process.cwd(), options.dataDir);
  return createRotatedDataset('RotatedMNIST', options, () => loadMnistDigits(dir));
}

export const rotatedMnistPlugin = definePlugin({
  kind: 'dataset',
  name: 'RotatedMNIST',
  description: 'MNIST digits rotated 0-75 degrees, one environment per angle (DomainBed; arXiv:2007.01434)',
  options: z.object(rotatedOptionFields),
  create(options, ctx) {
    return createRotatedMnist(options, ctx.baseDir);
  },
});
