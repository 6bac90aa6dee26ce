import { z } from 'zod';
import { definePlugin, RunContextToken, type RunContext } from '@qtdog/core';
import { MnistCnn } from './mnist-cnn.js';

export const mnistCnnPlugin = definePlugin({
  kind: 'network',
  name: 'MNIST_CNN',
  description: "DomainBed's MNIST_CNN: 4 conv 3x3 + ReLU + GroupNorm(8), 128 features, linear classifier",
  options: z.object({
    /** GroupNorm groups (DomainBed: 8). */
    groups: z.number().int().positive().default(8),
  }),
  async create(options, ctx) {
    const run = await ctx.container.getAsync<RunContext>(RunContextToken);
    return new MnistCnn(run.inputShape, run.numClasses, ctx.seed, options.groups);
  },
});
