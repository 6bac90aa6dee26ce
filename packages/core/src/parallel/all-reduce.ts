/**
 * A synchronous sum over the data-parallel parts of one step, for losses that couple examples only
 * through sums (CORAL's per-domain feature moments): every part writes its partial sums into its own
 * slot of a SharedArrayBuffer, waits at a barrier (Atomics.wait: each thread blocks, no messages),
 * then adds all slots in the same order, so every part gets the same totals in the middle of its own
 * forward pass and the backward pass follows from there. One exchange instead of a second pass.
 */
import { RunError } from '../errors.js';

/** Thrown at the exchange when another part failed first; that part's own error says why. */
export class ExchangeAbortedError extends RunError {
  constructor(
    readonly part: number,
    readonly failedPart: number,
  ) {
    super(`data-parallel part ${part}: part ${failedPart} failed before the statistics exchange`);
  }
}

/** Sums `values` over every part of the step; the same result on every part. */
export type AllReduce = (values: Float32Array) => Float32Array;

/** On one thread there is nothing to add. */
export const singlePartReduce: AllReduce = (values) => values;

/** Plain data (it crosses postMessage as is): the barrier and the parts' slots. */
export interface ReduceBlock {
  buffer: SharedArrayBuffer;
  parts: number;
  /** Floats per slot. */
  capacity: number;
}

/** Bytes before the slots: Int32 [arrived, generation, failed part + 1 (0: none)], padded. */
const CONTROL_BYTES = 16;

/**
 * Two sets of slots, used by alternate exchanges, so a part that has summed one exchange and moves
 * on to the next cannot overwrite a slot that a slower part is still adding up.
 */
export function createReduceBlock(parts: number, capacity: number): ReduceBlock {
  const bytes = CONTROL_BYTES + 2 * parts * capacity * Float32Array.BYTES_PER_ELEMENT;
  return { buffer: new SharedArrayBuffer(bytes), parts, capacity };
}

/** The AllReduce of part `part` (0 = the main thread) over `block`. */
export function sharedAllReduce(block: ReduceBlock, part: number, timeoutMs = 120_000): AllReduce {
  const control = new Int32Array(block.buffer, 0, 3);
  const slot = (parity: number, p: number) =>
    new Float32Array(block.buffer, CONTROL_BYTES + (parity * block.parts + p) * block.capacity * Float32Array.BYTES_PER_ELEMENT, block.capacity);
  return (values) => {
    if (values.length > block.capacity) {
      throw new RunError(`data-parallel: ${values.length} statistics to exchange, but the exchange holds ${block.capacity} (statisticsSize is too small)`);
    }
    const generation = Atomics.load(control, 1);
    const parity = generation % 2;
    slot(parity, part).set(values);
    if (Atomics.add(control, 0, 1) === block.parts - 1) {
      // The last part to arrive opens the barrier for the others.
      Atomics.store(control, 0, 0);
      Atomics.add(control, 1, 1);
      Atomics.notify(control, 1);
    } else {
      const deadline = Date.now() + timeoutMs;
      while (Atomics.load(control, 1) === generation) {
        const failed = Atomics.load(control, 2);
        if (failed !== 0) throw new ExchangeAbortedError(part, failed - 1);
        const left = deadline - Date.now();
        if (left <= 0 || Atomics.wait(control, 1, generation, left) === 'timed-out') {
          throw new RunError(`data-parallel part ${part}: the other parts did not reach the statistics exchange within ${timeoutMs / 1000} s`);
        }
      }
    }
    // Every part adds the slots in the same order, in float64: identical totals everywhere.
    const sum = new Float64Array(values.length);
    for (let p = 0; p < block.parts; p++) {
      const s = slot(parity, p);
      for (let j = 0; j < values.length; j++) sum[j]! += s[j]!;
    }
    return Float32Array.from(sum);
  };
}

/**
 * Called by a part whose step failed: the parts waiting at the exchange stop waiting and fail at
 * once (instead of after the timeout), and the block is not to be used again.
 */
export function abortReduce(block: ReduceBlock, part: number): void {
  const control = new Int32Array(block.buffer, 0, 3);
  Atomics.compareExchange(control, 2, 0, part + 1);
  Atomics.notify(control, 1);
}
