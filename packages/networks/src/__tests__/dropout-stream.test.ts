import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { beforeAll, describe, expect, it } from 'vitest';
import { ParamSet } from '@qtdog/core';
import { DropoutStream } from '../linear-head';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DropoutStream', () => {
  it('continues the same mask sequence after its draw counter is restored (resume)', () => {
    const x = tf.ones([4, 8]) as tf.Tensor2D;
    const a = new ParamSet();
    const sa = new DropoutStream(a, 7, 'dropout-test-a');
    const m1 = Array.from(sa.apply(x, 0.5).dataSync());
    const m2 = Array.from(sa.apply(x, 0.5).dataSync());
    expect(m1).not.toEqual(m2);
    expect(new Set(m1)).toEqual(new Set([0, 2]));
    expect(a.get('dropout.draws').variable.dataSync()[0]).toBe(2);
    // A new network restored from a checkpoint taken after the first draw.
    const b = new ParamSet();
    const sb = new DropoutStream(b, 7, 'dropout-test-b');
    b.get('dropout.draws').variable.assign(tf.scalar(1));
    expect(Array.from(sb.apply(x, 0.5).dataSync())).toEqual(m2);
    expect(b.get('dropout.draws').trainable).toBe(false);
    a.dispose();
    b.dispose();
  });
});
