import * as tf from '@tensorflow/tfjs-core';
import { ParamSet, Rng, seedHash, type Network, type WeightLayer, type WeightTransform } from '@qtdog/core';
import { batchNorm2d, PYTORCH_BN, type BatchNormParams } from './batch-norm.js';
import { uniformFanIn, uniqueModelId } from './init.js';
import { DropoutStream, layerWeight, linearClassifier } from './linear-head.js';

export type ResNetDepth = 18 | 50;

export interface ResNetOptions {
  depth: ResNetDepth;
  /** BatchNorm uses (and keeps) its running statistics in training too; gamma and beta still train. */
  freezeBN: boolean;
  /** Dropout on the pooled features while training (DomainBed's resnet_dropout). */
  dropout: number;
}

/** Blocks per stage, block type and feature width of each depth (torchvision). */
const ARCH: Record<ResNetDepth, { blocks: number[]; bottleneck: boolean; featureDim: number }> = {
  18: { blocks: [2, 2, 2, 2], bottleneck: false, featureDim: 512 },
  50: { blocks: [3, 4, 6, 3], bottleneck: true, featureDim: 2048 },
};

interface ConvLayer {
  name: string;
  k: number;
  stride: number;
  pad: number;
  cin: number;
  cout: number;
  /** Index in `layers` (the weight layer a quantizer sees). */
  layer: number;
}

interface Block {
  /** conv, BatchNorm name pairs in order (2 for a basic block, 3 for a bottleneck). */
  convs: Array<{ conv: ConvLayer; bn: string }>;
  downsample?: { conv: ConvLayer; bn: string };
}

/**
 * ResNet-18 / ResNet-50 in torchvision's layout (He et al., arXiv:1512.03385; torchvision's v1.5
 * bottleneck with the stride on the 3x3), as DomainBed's featurizer: stem conv 7x7/2 + BN + ReLU +
 * max-pool 3x3/2, four stages, global average pooling, optional dropout; then a linear classifier.
 *
 * Functional: a ParamSet of named variables with torchvision's module names under `featurizer.`
 * (`featurizer.layer2.0.downsample.0.weight`; BatchNorm `gamma`, `beta`, `runningMean`, `runningVar`
 * for torchvision's weight, bias, running_mean, running_var; conv weights [kh, kw, cin, cout]).
 * Convolutions have no bias; every one of them (stem and downsample included) is in `layers` and
 * goes through `weightTransform`. Padding is explicit, as PyTorch's.
 */
export class ResNet implements Network {
  readonly name: string;
  readonly params = new ParamSet();
  readonly featureDim: number;
  readonly layers: WeightLayer[] = [];
  weightTransform: WeightTransform | null = null;
  readonly freezeBN: boolean;
  readonly dropout: number;
  private stem!: ConvLayer;
  private readonly stages: Block[][] = [];
  private readonly bn = new Map<string, BatchNormParams>();
  private readonly dropoutStream?: DropoutStream;

  constructor(
    inputShape: readonly [number, number, number],
    readonly numClasses: number,
    seed: number,
    options: ResNetOptions,
  ) {
    const arch = ARCH[options.depth];
    if (!arch) throw new Error(`ResNet: depth ${options.depth} is not 18 or 50`);
    if (!(options.dropout >= 0 && options.dropout < 1)) throw new Error(`ResNet: dropout ${options.dropout} is not in [0, 1)`);
    this.name = `ResNet${options.depth}`;
    this.featureDim = arch.featureDim;
    this.freezeBN = options.freezeBN;
    this.dropout = options.dropout;
    const rng = new Rng(seed);
    const id = uniqueModelId(this.name);
    if (this.dropout > 0) this.dropoutStream = new DropoutStream(this.params, seed, `${id}/dropout.draws`);
    const variable = (name: string, value: tf.Tensor, trainable = true) => tf.variable(value, trainable, `${id}/${name}`);

    const conv = (name: string, cin: number, cout: number, k: number, stride: number): ConvLayer => {
      const full = `featurizer.${name}`;
      // torchvision: kaiming_normal_(mode='fan_out', nonlinearity='relu').
      const std = Math.sqrt(2 / (cout * k * k));
      const values = new Float32Array(k * k * cin * cout);
      for (let i = 0; i < values.length; i++) values[i] = std * rng.normal();
      this.params.add({ name: `${full}.weight`, layer: full, role: 'conv', variable: variable(`${full}.weight`, tf.tensor4d(values, [k, k, cin, cout])) });
      this.layers.push({ name: full, type: 'conv', weight: `${full}.weight` });
      return { name: full, k, stride, pad: (k - 1) / 2, cin, cout, layer: this.layers.length - 1 };
    };
    const batchNorm = (name: string, c: number): string => {
      const full = `featurizer.${name}`;
      const add = (suffix: string, value: tf.Tensor, trainable: boolean) => {
        const v = variable(`${full}.${suffix}`, value, trainable);
        this.params.add({ name: `${full}.${suffix}`, layer: full, role: 'norm', variable: v, trainable });
        return v;
      };
      this.bn.set(full, {
        gamma: add('gamma', tf.ones([c]), true),
        beta: add('beta', tf.zeros([c]), true),
        runningMean: add('runningMean', tf.zeros([c]), false),
        runningVar: add('runningVar', tf.ones([c]), false),
      });
      return full;
    };

    tf.tidy(() => {
      this.stem = conv('conv1', inputShape[2], 64, 7, 2);
      batchNorm('bn1', 64);
      let cin = 64;
      arch.blocks.forEach((count, s) => {
        const planes = 64 * 2 ** s;
        const cout = arch.bottleneck ? planes * 4 : planes;
        const blocks: Block[] = [];
        for (let b = 0; b < count; b++) {
          const stride = b === 0 && s > 0 ? 2 : 1;
          const p = `layer${s + 1}.${b}`;
          const convs = arch.bottleneck
            ? [
                { conv: conv(`${p}.conv1`, cin, planes, 1, 1), bn: batchNorm(`${p}.bn1`, planes) },
                { conv: conv(`${p}.conv2`, planes, planes, 3, stride), bn: batchNorm(`${p}.bn2`, planes) },
                { conv: conv(`${p}.conv3`, planes, cout, 1, 1), bn: batchNorm(`${p}.bn3`, cout) },
              ]
            : [
                { conv: conv(`${p}.conv1`, cin, planes, 3, stride), bn: batchNorm(`${p}.bn1`, planes) },
                { conv: conv(`${p}.conv2`, planes, planes, 3, 1), bn: batchNorm(`${p}.bn2`, planes) },
              ];
          const block: Block = { convs };
          if (stride !== 1 || cin !== cout) {
            block.downsample = { conv: conv(`${p}.downsample.0`, cin, cout, 1, stride), bn: batchNorm(`${p}.downsample.1`, cout) };
          }
          blocks.push(block);
          cin = cout;
        }
        this.stages.push(blocks);
      });
      // DomainBed's Classifier: nn.Linear with PyTorch's default initialisation.
      const f = arch.featureDim;
      this.params.add({ name: 'classifier.weight', layer: 'classifier', role: 'dense', variable: variable('classifier.weight', uniformFanIn(rng, [f, numClasses], f)) });
      this.params.add({ name: 'classifier.bias', layer: 'classifier', role: 'bias', variable: variable('classifier.bias', uniformFanIn(rng, [numClasses], f)) });
      this.layers.push({ name: 'classifier', type: 'dense', weight: 'classifier.weight' });
    });
  }

  private convForward(x: tf.Tensor4D, c: ConvLayer, training: boolean): tf.Tensor4D {
    const layer = this.layers[c.layer]!;
    const w = layerWeight(this, layer, training) as tf.Tensor4D;
    const pad = c.pad === 0 ? 'valid' : ([[0, 0], [c.pad, c.pad], [c.pad, c.pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]);
    return tf.conv2d(x, w, c.stride, pad);
  }

  private bnForward(x: tf.Tensor4D, name: string, training: boolean): tf.Tensor4D {
    return batchNorm2d(x, this.bn.get(name)!, { training, frozen: this.freezeBN, ...PYTORCH_BN });
  }

  featurize(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      let h = tf.relu(this.bnForward(this.convForward(x, this.stem, training), 'featurizer.bn1', training)) as tf.Tensor4D;
      // Max-pool 3x3/2 with 1 pixel of padding that never wins, as PyTorch's. Passing the padding to
      // the kernel (rather than tf.pad, then 'valid') saves a padded copy and, in the backward pass,
      // a strided 4-D Slice that took 2% of a ResNet-18 step on wasm.
      h = tf.maxPool(h, 3, 2, 1);
      for (const stage of this.stages) {
        for (const block of stage) {
          let out = h;
          block.convs.forEach(({ conv, bn }, i) => {
            out = this.bnForward(this.convForward(out, conv, training), bn, training);
            if (i < block.convs.length - 1) out = tf.relu(out);
          });
          const identity = block.downsample
            ? this.bnForward(this.convForward(h, block.downsample.conv, training), block.downsample.bn, training)
            : h;
          h = tf.relu(tf.add(out, identity)) as tf.Tensor4D;
        }
      }
      let features = tf.mean(h, [1, 2]) as tf.Tensor2D;
      if (training && this.dropoutStream) features = this.dropoutStream.apply(features, this.dropout);
      return features;
    });
  }


  classify(features: tf.Tensor2D, training: boolean): tf.Tensor2D {
    return linearClassifier(this, features, training);
  }

  predict(x: tf.Tensor4D, training = false): tf.Tensor2D {
    return tf.tidy(() => this.classify(this.featurize(x, training), training));
  }

  dispose(): void {
    this.params.dispose();
    this.bn.clear();
  }
}
