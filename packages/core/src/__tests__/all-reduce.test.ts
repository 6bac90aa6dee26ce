import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { abortReduce, createReduceBlock, sharedAllReduce, singlePartReduce } from '../parallel/all-reduce.js';

// Worker threads run the built package (npm test builds first): the same function, another thread.
const WORKER = `
const { workerData, parentPort } = require('node:worker_threads');
const { sharedAllReduce } = require('@qtdog/core');
const { block, part, rounds } = workerData;
const reduce = sharedAllReduce(block, part, 10000);
const out = [];
for (let r = 0; r < rounds; r++) {
  // Arrive at different times: part 2 late in even rounds, part 1 late in odd ones.
  const until = Date.now() + ((r + part) % 2 ? 30 : 0);
  while (Date.now() < until) {}
  out.push(Array.from(reduce(Float32Array.from([part + 10 * r, 1, part * part]))));
}
parentPort.postMessage(out);
`;

function runWorker(block: ReturnType<typeof createReduceBlock>, part: number, rounds: number): Promise<number[][]> {
  return new Promise((resolve, reject) => {
    const w = new Worker(WORKER, { eval: true, workerData: { block, part, rounds } });
    w.once('message', (m: number[][]) => resolve(m));
    w.once('error', reject);
  });
}

describe('sharedAllReduce (the exchange of data-parallel CORAL)', () => {
  it('gives every part the same totals, round after round, whoever arrives last', async () => {
    const rounds = 5;
    const block = createReduceBlock(3, 4);
    const workers = [runWorker(block, 1, rounds), runWorker(block, 2, rounds)];
    // Let the workers start before this thread blocks at the first barrier.
    await new Promise((r) => setTimeout(r, 200));
    const reduce = sharedAllReduce(block, 0, 10000);
    const mine: number[][] = [];
    for (let r = 0; r < rounds; r++) mine.push(Array.from(reduce(Float32Array.from([10 * r, 1, 0]))));
    const [one, two] = await Promise.all(workers);
    for (let r = 0; r < rounds; r++) {
      // Parts 0, 1, 2 send [p + 10 r, 1, p^2]: totals [3 + 30 r, 3, 5].
      const want = [3 + 30 * r, 3, 5];
      expect(mine[r]).toEqual(want);
      expect(one![r]).toEqual(want);
      expect(two![r]).toEqual(want);
    }
  });

  it('a part that fails before the exchange releases the parts waiting there at once', async () => {
    const block = createReduceBlock(2, 1);
    // The worker waits with a 60 s timeout; the test's own 20 s limit fails it if abort does not work.
    const waiting = new Promise<string>((resolve, reject) => {
      const code = `
        const { workerData, parentPort } = require('node:worker_threads');
        const { sharedAllReduce } = require('@qtdog/core');
        try { sharedAllReduce(workerData, 1, 60000)(Float32Array.from([1])); parentPort.postMessage('passed'); }
        catch (e) { parentPort.postMessage(e.message); }`;
      const w = new Worker(code, { eval: true, workerData: block });
      w.once('message', resolve);
      w.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 300));
    abortReduce(block, 0);
    expect(await waiting).toBe('data-parallel part 1: part 0 failed before the statistics exchange');
  }, 20000);

  it('fails with a clear error when another part never arrives, and checks the size', () => {
    const reduce = sharedAllReduce(createReduceBlock(2, 2), 0, 100);
    expect(() => reduce(Float32Array.from([1, 2]))).toThrow(/did not reach the statistics exchange within 0.1 s/);
    expect(() => reduce(Float32Array.from([1, 2, 3]))).toThrow(/3 statistics to exchange, but the exchange holds 2/);
    expect(Array.from(singlePartReduce(Float32Array.from([4, 5])))).toEqual([4, 5]);
  });
});
