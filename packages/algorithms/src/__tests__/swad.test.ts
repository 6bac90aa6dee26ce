import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadWeights, type EvaluationContext } from '@qtdog/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { LossValley, SwadHook, trainOutLoss } from '../index.js';
import { LinearNetwork } from './test-utils.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const options = { nConverge: 3, nTolerance: 6, toleranceRatio: 0.3 };

/** Pushes segments 0, 1, ... with the given losses; returns what each push accepted. */
function feed(valley: LossValley<number>, losses: number[], from = 0): number[][] {
  return losses.map((l, i) => valley.push(from + i, l));
}

// Losses 5, 4, 3, 2, 2.5, 2.6: the last three (segments 3, 4, 5) have their minimum first, so the
// valley starts at segment 3 with threshold 1.3 x mean(2, 2.5, 2.6) = 1.3 x 2.3666667 = 3.0766667.
// Going back: segment 2 (loss 3 <= 3.0767) joins, segment 1 (loss 4) does not.
const START = [5, 4, 3, 2, 2.5, 2.6];

describe('SWAD loss-valley detector', () => {
  it('starts when the oldest of the last n_converge losses is their minimum, extending backwards', () => {
    const valley = new LossValley<number>(options);
    const accepted = feed(valley, START);
    expect(accepted.slice(0, 5)).toEqual([[], [], [], [], []]);
    expect(accepted[5]).toEqual([2, 3]);
    expect(valley.converged).toBe(true);
    expect(valley.threshold).toBeCloseTo(1.3 * (7.1 / 3), 10);
  });

  it('accepts later segments with a lag of n_tolerance checkpoints while the window minimum is under the threshold', () => {
    const valley = new LossValley<number>(options);
    feed(valley, START);
    // Segment 4 is decided when segments 4..9 are known (min 2.1 <= threshold), segment 5 with 5..10.
    expect(feed(valley, [2.4, 2.3, 2.2, 2.1, 2.0], 6)).toEqual([[], [], [], [4], [5]]);
    expect(valley.dead).toBe(false);
  });

  it('ends the valley when n_tolerance losses in a row exceed the threshold (early stop)', () => {
    const valley = new LossValley<number>(options);
    feed(valley, START);
    // Segment 6 has loss 2.0, then 4.0 from segment 7 on. Windows 4..9, 5..10, 6..11 still hold 2.0;
    // window 7..12 is all 4.0 > 3.0767: the valley is dead at segment 12.
    const accepted = feed(valley, [2.0, 4, 4, 4, 4, 4, 4, 4], 6);
    expect(accepted).toEqual([[], [], [], [4], [5], [6], [], []]);
    expect(valley.dead).toBe(true);
    expect(valley.finish()).toEqual([]);
  });

  it('at the end, accepts pending segments while the least loss from each on is under the threshold', () => {
    const valley = new LossValley<number>(options);
    feed(valley, START);
    feed(valley, [2.2, 5, 3.5], 6);
    // Pending 4 (2.5), 5 (2.6), 6 (2.2), 7 (5), 8 (3.5): 4, 5, 6 have 2.2 ahead; from 7 on the least
    // is 3.5 > threshold, so 7 and 8 are left out.
    expect(valley.finish()).toEqual([4, 5, 6]);
  });

  it('never converges on a steadily falling loss; ties count as the minimum first; NaN is no minimum', () => {
    const falling = new LossValley<number>(options);
    expect(feed(falling, [9, 8, 7, 6, 5, 4, 3]).flat()).toEqual([]);
    expect(falling.converged).toBe(false);
    expect(falling.finish()).toEqual([]);
    const flat = new LossValley<number>(options);
    expect(feed(flat, [3, 3, 3])[2]).toEqual([0]);
    const nan = new LossValley<number>(options);
    expect(feed(nan, [NaN, 1, 2]).flat()).toEqual([]);
  });
});

describe('SWAD hook', () => {
  const record = (step: number, loss: number) => ({
    step,
    config: { dataset: { testEnvs: [0] } },
    // env0 is the test environment: its out loss is ignored.
    env0_out_loss: 99,
    env1_out_loss: loss - 0.5,
    env2_out_loss: loss + 0.5,
  });

  it('reads the mean out loss of the training environments from a checkpoint record', () => {
    expect(trainOutLoss(record(0, 2))).toBe(2);
  });

  it('averages every step densely, stops when the valley ends, evaluates and saves the average', async () => {
    const network = new LinearNetwork(1, 2);
    const weight = network.params.get('classifier.weight').variable;
    const hook = new SwadHook({ ...options, earlyStop: true });
    // Step s sets the weight to (s, 2s); checkpoints every 2 steps: segment 0 = step 0, segment k
    // = steps 2k-1 and 2k, so its average weight is (2k - 0.5, 4k - 1).
    const losses = [...START, 2.0, 4, 4, 4, 4, 4, 4];
    let stoppedAt = -1;
    let numTensors = -1;
    for (let step = 0; stoppedAt < 0 && step <= 2 * (losses.length - 1); step++) {
      tf.tidy(() => weight.assign(tf.tensor2d([[step, 2 * step]])));
      hook.afterStep(step, network);
      if (step > 1) expect(tf.memory().numTensors).toBe(numTensors);
      numTensors = tf.memory().numTensors;
      if (step % 2 === 0 && hook.onCheckpoint({ step, record: record(step, losses[step / 2]!) }) === 'stop') stoppedAt = step;
    }
    // Dead at segment 12 (step 24); accepted segments 2..6: average weight 2k - 0.5 for k = 2..6 -> 7.5.
    expect(stoppedAt).toBe(24);
    const outDir = mkdtempSync(join(tmpdir(), 'swad-'));
    let seen: number[] = [];
    const ctx = {
      outDir,
      trainEnvs: [1, 2],
      async evaluateAll(predict: (x: tf.Tensor4D) => tf.Tensor2D) {
        seen = Array.from(weight.dataSync());
        const shape = tf.tidy(() => predict(tf.ones([1, 1, 1, 1])).shape);
        expect(shape).toEqual([1, 2]);
        return { env0_in_acc: 0.9, env1_out_acc: 0.8, env2_out_acc: 0.6 };
      },
    } as unknown as EvaluationContext;
    const out = await hook.onEnd(network, ctx);
    expect(seen).toEqual([7.5, 15]);
    expect(Array.from(weight.dataSync())).toEqual([24, 48]);
    expect(out).toMatchObject({ env0_in_acc: 0.9, converged: true, valleyEnded: true, segments: 5, startStep: 3, endStep: 12 });
    expect(out.trainDomainValAcc).toBeCloseTo(0.7, 10);
    const saved = loadWeights(join(outDir, 'checkpoints/swad'));
    expect(Array.from(saved.tensors['classifier.weight']!.dataSync())).toEqual([7.5, 15]);
    expect(saved.manifest.meta.swad).toMatchObject({ segments: 5 });
    tf.dispose(Object.values(saved.tensors));
    const before = tf.memory().numTensors;
    hook.dispose();
    expect(tf.memory().numTensors).toBe(before - network.params.all().length);
  });

  it('falls back to the last segment when the valley never started, and averages parameters added mid-run', async () => {
    const network = new LinearNetwork(1, 2);
    const hook = new SwadHook({ ...options, earlyStop: true });
    const weight = network.params.get('classifier.weight').variable;
    for (let step = 0; step < 4; step++) {
      tf.tidy(() => weight.assign(tf.tensor2d([[step, 0]])));
      // A quantizer's step size appears at step 2 and changes at step 3.
      if (step === 2) network.params.add({ name: 'lsq_step', layer: 'classifier', role: 'quantizer', variable: tf.variable(tf.scalar(1), true, 'swad-test/lsq') });
      if (step === 3) tf.tidy(() => network.params.get('lsq_step').variable.assign(tf.scalar(3)));
      hook.afterStep(step, network);
      if (step % 2 === 0 || step === 3) hook.onCheckpoint({ step, record: record(step, 5 - step) });
    }
    // Segments: [0], [1, 2], [3]; the loss falls throughout, so the last segment (step 3) is used.
    const { weights, converged } = hook.finalWeights();
    expect(converged).toBe(false);
    expect(Array.from(weights.get('classifier.weight')!.values)).toEqual([3, 0]);
    expect(Array.from(weights.get('lsq_step')!.values)).toEqual([3]);
    hook.dispose();
    network.dispose();
  });
});
