import type { Batch } from '@qtdog/core';

/**
 * Keeps one read in flight ahead of the consumer: `next()` hands over the batch requested at the
 * previous call and starts the following one at once. With an image folder the started read's
 * decoding runs in libuv's threads (sharp), so it overlaps whatever synchronous work (a wasm
 * training step) the caller does before awaiting the next batch. The indices are drawn when the read
 * starts, so the sampler advances exactly as without prefetching.
 */
export class BatchPrefetcher {
  private pending?: Promise<Batch>;

  constructor(private readonly start: () => Batch | Promise<Batch>) {}

  /** The batch started by the previous call (or a fresh one), and the next read started already. */
  next(): Promise<Batch> {
    const current = this.pending ?? this.launch();
    this.pending = this.launch();
    return current;
  }

  private launch(): Promise<Batch> {
    let p: Promise<Batch>;
    try {
      p = Promise.resolve(this.start());
    } catch (e) {
      p = Promise.reject(e);
    }
    // A read that fails while nobody awaits it yet must not become an unhandled rejection: the error
    // is delivered by the next call to next().
    p.catch(() => {});
    return p;
  }

  /** Waits for the read in flight (if any) and forgets it. */
  async drain(): Promise<void> {
    const p = this.pending;
    this.pending = undefined;
    await p?.catch(() => {});
  }
}
