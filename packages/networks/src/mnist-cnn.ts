import * as tf from '@tensorflow/tfjs-core';
import { ParamSet, Rng, type ActivationSite, type ActivationTransform, type Network, type WeightLayer, type WeightTransform } from '@qtdog/core';
import { conv2dBiasRelu, groupNorm } from '@qtdog/engine';
import { uniformFanIn, uniqueModelId } from './init.js';
import { layerWeight, linearClassifier, siteActivation } from './linear-head.js';

interface ConvSpec {
  name: string;
  cin: number;
  cout: number;
  stride: number;
}

/**
 * DomainBed's MNIST_CNN (SPEC.md): four 3x3 convolutions (64, 128 stride 2, 128, 128), each followed
 * by ReLU and GroupNorm(8), global average pooling to 128 features, then one dense classifier.
 * Padding is explicit (1 on every side) to match PyTorch exactly; TF's 'same' would pad the
 * stride-2 convolution only at the bottom/right.
 */
export class MnistCnn implements Network {
  readonly name = 'MNIST_CNN';
  readonly params = new ParamSet();
  readonly featureDim = 128;
  readonly layers: WeightLayer[];
  weightTransform: WeightTransform | null = null;
  /** The four ReLU outputs (each then goes through GroupNorm into the next layer). */
  readonly activationSites: ActivationSite[] = [1, 2, 3, 4].map((i) => ({ name: `featurizer.relu${i}`, unsigned: true }));
  activationTransform: ActivationTransform | null = null;
  private readonly convs: ConvSpec[];

  constructor(
    inputShape: readonly [number, number, number],
    readonly numClasses: number,
    seed: number,
    readonly groups = 8,
  ) {
    const rng = new Rng(seed);
    const id = uniqueModelId(this.name);
    const channels = inputShape[2];
    this.convs = [
      { name: 'featurizer.conv1', cin: channels, cout: 64, stride: 1 },
      { name: 'featurizer.conv2', cin: 64, cout: 128, stride: 2 },
      { name: 'featurizer.conv3', cin: 128, cout: 128, stride: 1 },
      { name: 'featurizer.conv4', cin: 128, cout: 128, stride: 1 },
    ];
    const add = (name: string, layer: string, role: 'conv' | 'dense' | 'bias' | 'norm', value: tf.Tensor) =>
      this.params.add({ name, layer, role, variable: tf.variable(value, true, `${id}/${name}`) });
    tf.tidy(() => {
      for (const [i, c] of this.convs.entries()) {
        const fanIn = c.cin * 9;
        add(`${c.name}.weight`, c.name, 'conv', uniformFanIn(rng, [3, 3, c.cin, c.cout], fanIn));
        add(`${c.name}.bias`, c.name, 'bias', uniformFanIn(rng, [c.cout], fanIn));
        add(`featurizer.gn${i + 1}.gamma`, `featurizer.gn${i + 1}`, 'norm', tf.ones([c.cout]));
        add(`featurizer.gn${i + 1}.beta`, `featurizer.gn${i + 1}`, 'norm', tf.zeros([c.cout]));
      }
      add('classifier.weight', 'classifier', 'dense', uniformFanIn(rng, [128, numClasses], 128));
      add('classifier.bias', 'classifier', 'bias', uniformFanIn(rng, [numClasses], 128));
    });
    this.layers = [
      ...this.convs.map((c) => ({ name: c.name, type: 'conv' as const, weight: `${c.name}.weight` })),
      { name: 'classifier', type: 'dense', weight: 'classifier.weight' },
    ];
  }

  featurize(x: tf.Tensor4D, training: boolean): tf.Tensor2D {
    return tf.tidy(() => {
      let h: tf.Tensor4D = x;
      for (const [i, c] of this.convs.entries()) {
        const w = layerWeight(this, this.layers[i]!, training) as tf.Tensor4D;
        const pad: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];
        h = conv2dBiasRelu(h, w, this.params.get(`${c.name}.bias`).variable, c.stride, pad);
        h = siteActivation(this, this.activationSites[i]!, h, training) as tf.Tensor4D;
        h = groupNorm(
          h,
          this.groups,
          this.params.get(`featurizer.gn${i + 1}.gamma`).variable as tf.Tensor1D,
          this.params.get(`featurizer.gn${i + 1}.beta`).variable as tf.Tensor1D,
        );
      }
      return tf.mean(h, [1, 2]) as tf.Tensor2D;
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
  }
}
