import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';
import { choice, DataError, definePlugin, loadWeights, pathOption, RunContextToken, type RunContext } from '@qtdog/core';
import { isAbsolute, resolve } from 'node:path';
import { ResNet, type ResNetDepth } from './resnet.js';

/**
 * Copies the `featurizer.*` tensors of a qtdog weights folder (docs/formats.md; for example ImageNet
 * weights converted from torchvision, conv weights transposed to [kh, kw, cin, cout]) into the
 * network. Every featurizer parameter must be there with its shape; the classifier stays fresh, as
 * DomainBed's. Returns the number of tensors copied.
 */
export function loadFeaturizerWeights(network: ResNet, dir: string): number {
  const { tensors } = loadWeights(dir);
  try {
    const wanted = network.params.all().filter((p) => p.name.startsWith('featurizer.'));
    const missing = wanted.filter((p) => !tensors[p.name]).map((p) => p.name);
    if (missing.length > 0) {
      throw new DataError(
        `${dir}: ${missing.length} of ${network.name}'s featurizer parameters are not in the weights (${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''})`,
      );
    }
    for (const p of wanted) {
      const t = tensors[p.name]!;
      if (t.shape.join('x') !== p.variable.shape.join('x')) {
        throw new DataError(`${dir}: '${p.name}' has shape [${t.shape}], ${network.name} needs [${p.variable.shape}]`);
      }
    }
    for (const p of wanted) p.variable.assign(tensors[p.name]!);
    return wanted.length;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

const resnetOptions = z.object({
  /**
   * Frozen BatchNorm (running statistics used and kept, gamma/beta trainable), as DomainBed, SWAD and
   * QT-DoG do with ImageNet weights. Default: frozen when `weights` is given, batch statistics when
   * training from scratch.
   */
  freezeBN: z.boolean().optional(),
  /** Dropout on the pooled features while training (DomainBed's resnet_dropout: 0, random search over 0, 0.1, 0.5). */
  dropout: z.number().min(0).lt(1).default(0),
  /** A qtdog weights folder with pretrained `featurizer.*` tensors (relative to the config file). */
  weights: pathOption('folder').optional(),
});

function resnetPlugin(depth: ResNetDepth) {
  return definePlugin({
    kind: 'network',
    name: `ResNet${depth}`,
    description: `ResNet-${depth} (arXiv:1512.03385; torchvision layout) with functional BatchNorm, split into featurizer (${depth === 18 ? 512 : 2048} features) and a linear classifier`,
    options: resnetOptions,
    // DomainBed's random search for resnet_dropout.
    hparams: { dropout: choice([0, 0.1, 0.5]) },
    async create(options, ctx) {
      const run = await ctx.container.getAsync<RunContext>(RunContextToken);
      const freezeBN = options.freezeBN ?? options.weights !== undefined;
      const net = new ResNet(run.inputShape, run.numClasses, ctx.seed, { depth, freezeBN, dropout: options.dropout });
      if (options.weights !== undefined) {
        const dir = isAbsolute(options.weights) ? options.weights : resolve(ctx.baseDir, options.weights);
        try {
          const n = loadFeaturizerWeights(net, dir);
          ctx.log(`${net.name}: loaded ${n} featurizer tensors from ${dir}`);
        } catch (e) {
          net.dispose();
          throw e;
        }
      }
      return net;
    },
  });
}

export const resnet18Plugin = resnetPlugin(18);
export const resnet50Plugin = resnetPlugin(50);
