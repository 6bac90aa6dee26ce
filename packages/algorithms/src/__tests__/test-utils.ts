import * as tf from '@tensorflow/tfjs-core';
import { expect } from 'vitest';
import { ParamSet, type Network, type WeightLayer, type WeightTransform } from '@qtdog/core';

let counter = 0;

/**
 * A test network whose numbers can be followed by hand: the features are the flattened input and
 * the classifier is one dense layer (weight [features, classes], bias [classes]).
 */
export class LinearNetwork implements Network {
  readonly name = 'Linear';
  readonly params = new ParamSet();
  readonly layers: WeightLayer[] = [{ name: 'classifier', type: 'dense', weight: 'classifier.weight' }];
  weightTransform: WeightTransform | null = null;

  constructor(
    readonly featureDim: number,
    readonly numClasses: number,
    weight?: number[][],
    bias?: number[],
  ) {
    const id = `linear#${++counter}`;
    const w = weight ? tf.tensor2d(weight) : tf.zeros([featureDim, numClasses]);
    const b = bias ? tf.tensor1d(bias) : tf.zeros([numClasses]);
    this.params.add({ name: 'classifier.weight', layer: 'classifier', role: 'dense', variable: tf.variable(w, true, `${id}/w`) });
    this.params.add({ name: 'classifier.bias', layer: 'classifier', role: 'bias', variable: tf.variable(b, true, `${id}/b`) });
    tf.dispose([w, b]);
  }

  featurize(x: tf.Tensor4D): tf.Tensor2D {
    return tf.reshape(x, [x.shape[0], this.featureDim]);
  }

  classify(features: tf.Tensor2D): tf.Tensor2D {
    return tf.tidy(() => {
      const w = this.params.get('classifier.weight').variable;
      const wt = this.weightTransform ? this.weightTransform(this.layers[0]!, w) : w;
      return tf.add(tf.matMul(features, wt as tf.Tensor2D), this.params.get('classifier.bias').variable) as tf.Tensor2D;
    });
  }

  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => this.classify(this.featurize(x)));
  }

  dispose(): void {
    this.params.dispose();
  }
}

/** A minibatch of 1x1xC "images" from rows of numbers. */
export function minibatch(rows: number[][], labels: number[], env = 0) {
  return { x: tf.tensor4d(rows.flat(), [rows.length, 1, 1, rows[0]!.length]), y: tf.tensor1d(labels, 'int32'), env };
}

/** Values of every parameter, by name. */
export function snapshot(network: { params: ParamSet }): Record<string, number[]> {
  return Object.fromEntries(network.params.all().map((p) => [p.name, Array.from(p.variable.dataSync())]));
}

/** Checks a tensor's values (any shape, compared flat) against expected numbers, then disposes it. */
export function expectClose(t: tf.Tensor, expected: number | number[] | number[][], digits = 5): void {
  const got = Array.from(t.dataSync());
  t.dispose();
  const want = [expected].flat(2) as number[];
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => expect(g).toBeCloseTo(want[i]!, digits));
}
