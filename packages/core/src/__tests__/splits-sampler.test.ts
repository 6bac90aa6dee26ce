import { describe, expect, it } from 'vitest';
import { InfiniteSampler, splitEnvironment } from '../index.js';

describe('splitEnvironment', () => {
  it('holds out 20% disjointly and reproducibly', () => {
    const s = splitEnvironment(1667, 0.2, 0, 3);
    expect(s.out.length).toBe(333);
    expect(s.in.length).toBe(1334);
    const all = new Set([...s.in, ...s.out]);
    expect(all.size).toBe(1667);
    expect(Array.from(splitEnvironment(1667, 0.2, 0, 3).out)).toEqual(Array.from(s.out));
    expect(Array.from(splitEnvironment(1667, 0.2, 1, 3).out)).not.toEqual(Array.from(s.out));
  });
});

describe('InfiniteSampler', () => {
  it('visits every index once per epoch and resumes exactly from its state', () => {
    const idx = Int32Array.from({ length: 10 }, (_, i) => i * 3);
    const s = new InfiniteSampler(idx, 5);
    const epoch = [...s.next(4), ...s.next(4), ...s.next(2)];
    expect([...epoch].sort((a, b) => a - b)).toEqual(Array.from(idx));
    const state = s.getState();
    const after = [...s.next(7)];
    const t = new InfiniteSampler(idx, 999);
    t.setState(JSON.parse(JSON.stringify(state)));
    expect([...t.next(7)]).toEqual(after);
  });
});
