import { describe, expect, it } from 'vitest';
import { addScaled, scaleInto } from '../parallel/data-parallel.js';
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

  it('scaleInto + addScaled average the parts with their weights', () => {
    const own = new Float32Array([1, 2, 3]);
    // 3 rows on this thread, 1 on the worker.
    const sum = scaleInto(new Float32Array(3), own, 0.75);
    addScaled(sum, new Float32Array([3, 6, -3]), 0.25);
    expect(Array.from(sum)).toEqual([1.5, 3, 1.5]);
    expect(Array.from(own)).toEqual([1, 2, 3]);
    expect(() => addScaled(sum, new Float32Array(2), 0.5)).toThrow(/2 elements, expected 3/);
    expect(() => scaleInto(new Float32Array(2), own, 0.5)).toThrow(/3 elements, expected 2/);
  });
});
