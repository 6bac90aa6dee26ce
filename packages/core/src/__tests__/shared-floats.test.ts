import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { selectBackend } from '@qtdog/engine';
import { sumOfSquaresOf, sumParts } from '../parallel/data-parallel.js';
import { layoutShared, sharedView, sharedViews } from '../parallel/shared-floats.js';

describe('shared float blocks (data-parallel weights and gradients)', () => {
  it('lays arrays out back to back, and views write through to the shared buffer', () => {
    const block = layoutShared([
      { name: 'a', shape: [2, 3] },
      { name: 'b', shape: [] },
      { name: 'c', shape: [4] },
    ]);
    expect(block.entries.map((e) => [e.name, e.offset, e.length])).toEqual([
      ['a', 0, 6],
      ['b', 6, 1],
      ['c', 7, 4],
    ]);
    expect(block.buffer.byteLength).toBe(11 * 4);
    sharedView(block, block.entries[2]!).set([1, 2, 3, 4]);
    // Another view of the same buffer (as a worker would make) sees the write.
    expect(Array.from(new Float32Array(block.buffer, 7 * 4, 4))).toEqual([1, 2, 3, 4]);
    expect(Array.from(sharedViews(block).get('b')!)).toEqual([0]);
  });

  it('reuses a buffer that is large enough and allocates a larger one when it is not', () => {
    const first = layoutShared([{ name: 'w', shape: [10] }]);
    expect(layoutShared([{ name: 'w', shape: [8] }], first.buffer).buffer).toBe(first.buffer);
    const grown = layoutShared([{ name: 'w', shape: [10] }, { name: 's', shape: [3] }], first.buffer);
    expect(grown.buffer).not.toBe(first.buffer);
    expect(grown.buffer.byteLength).toBe(13 * 4);
  });

  for (const backend of ['cpu', 'wasm'] as const) {
    it(`${backend}: sumParts averages this thread's tensor and the workers' arrays with their weights`, async () => {
      await selectBackend(backend, () => {});
      const own = tf.tensor([1, 2, 3], [3, 1]);
      const before = tf.memory().numTensors;
      // 3 rows on this thread, 1 on the worker.
      const two = sumParts(own, [new Float32Array([3, 6, -3])], [0.75, 0.25], 'gradient for w');
      expect(two.shape).toEqual([3, 1]);
      expect(Array.from(two.dataSync())).toEqual([1.5, 3, 1.5]);
      // Three parts (two workers): the third is added to the first two's sum; one part is scaled.
      const three = sumParts(own, [new Float32Array([3, 6, -3]), new Float32Array([4, 0, 8])], [0.5, 0.25, 0.25], 'gradient for w');
      expect(Array.from(three.dataSync())).toEqual([2.25, 2.5, 2.75]);
      const one = sumParts(own, [], [2], 'gradient for w');
      expect(Array.from(one.dataSync())).toEqual([2, 4, 6]);
      expect(Array.from(own.dataSync())).toEqual([1, 2, 3]);
      // Only the results are left, also after a refusal.
      expect(() => sumParts(own, [new Float32Array(3), new Float32Array(2)], [0.5, 0.25, 0.25], 'gradient for w')).toThrow(
        /worker 2's gradient for w has 2 elements, expected 3/,
      );
      expect(() => sumParts(own, [own.dataSync() as Float32Array], [1], 'gradient for w')).toThrow(/2 parts with 1 weights/);
      expect(tf.memory().numTensors).toBe(before + 3);
      tf.dispose([own, two, three, one]);
    });
  }

  it('sumOfSquaresOf adds the squares (SAM\'s gradient norm)', () => {
    expect(sumOfSquaresOf(new Float32Array([1, -2, 3]))).toBe(14);
  });
});
