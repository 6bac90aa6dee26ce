import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { definePlugin, pathOption, RunContextToken, type RunContext } from '@qtdog/core';
import { TfjsBackbone } from './tfjs-backbone.js';

export const tfjsBackbonePlugin = definePlugin({
  kind: 'network',
  name: 'TfjsBackbone',
  description: 'A TensorFlow.js layers model (model.json + weight shards; e.g. pretrained Keras weights) cut at a named layer as the featurizer, with a linear classifier',
  options: z.object({
    /** `model.json` or the folder holding it (relative to the config file). */
    model: pathOption('file or folder'),
    /** Layer whose output is the features (4-D outputs are average-pooled); default the model's output. */
    cutLayer: z.string().min(1).optional(),
    /** BatchNormalization layers keep and use their moving statistics in training (pretrained backbones: DomainBed, SWAD, QT-DoG). */
    freezeBN: z.boolean().default(true),
    /** Dropout on the features while training. */
    dropout: z.number().min(0).lt(1).default(0),
  }),
  async create(options, ctx) {
    const run = await ctx.container.getAsync<RunContext>(RunContextToken);
    const model = isAbsolute(options.model) ? options.model : resolve(ctx.baseDir, options.model);
    const net = await TfjsBackbone.load(run.inputShape, run.numClasses, ctx.seed, { ...options, model });
    ctx.log(`TfjsBackbone: ${model}${options.cutLayer ? ` cut at '${options.cutLayer}'` : ''}, ${net.featureDim} features, ${net.layers.length - 1} kernels reachable by quantizers`);
    return net;
  },
});
