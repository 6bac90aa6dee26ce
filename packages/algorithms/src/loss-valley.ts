export interface LossValleyOptions {
  /** Segments whose losses decide where the valley starts. */
  nConverge: number;
  /** Segments that must be seen after a segment before it is accepted (the lag). */
  nTolerance: number;
  /** The valley's threshold is (1 + toleranceRatio) x the mean loss of the converging segments. */
  toleranceRatio: number;
}

export interface LossValleyEntry<T> {
  segment: T;
  loss: number;
}
type Entry<T> = LossValleyEntry<T>;

/** Everything the detector holds, for checkpoints (a resumed run continues the same valley). */
export interface LossValleyState<T> {
  recent: Array<LossValleyEntry<T>>;
  pending: Array<LossValleyEntry<T>>;
  threshold: number | null;
  dead: boolean;
}

/**
 * SWAD's loss-valley detector (Cha et al., arXiv 2102.08604, "LossValley"), on opaque segments (the
 * parameter averages of the steps between two checkpoints) and their validation losses.
 * - Start: once the oldest of the last `nConverge` losses is their minimum. The threshold is
 *   (1 + toleranceRatio) x the mean of those losses. The start segment is accepted, and so are the
 *   queued segments just before it, going back while their loss <= threshold.
 * - Then a segment is accepted once `nTolerance` segments from it on have been seen and the least of
 *   their losses is <= threshold; otherwise the valley has ended (`dead`) and nothing more is accepted.
 * - `finish()` at the end of training accepts the remaining segments while the least of the losses
 *   from each on is <= threshold.
 * Each segment is accepted at most once, in training order, as the paper describes. (The reference
 * code, khanrc/swad, adds the start segment again when it reaches the head of its queue, and its
 * backward extension is shifted by one segment.)
 */
export class LossValley<T> {
  private recent: Array<Entry<T>> = [];
  private pending: Array<Entry<T>> = [];
  private thresholdValue: number | undefined;
  private isDead = false;
  private readonly history: number;

  constructor(readonly options: LossValleyOptions) {
    if (options.nConverge < 1 || options.nTolerance < 1) throw new RangeError('nConverge and nTolerance must be at least 1');
    this.history = Math.max(options.nConverge, options.nTolerance);
  }

  get converged(): boolean {
    return this.thresholdValue !== undefined;
  }

  /** The valley ended: later segments are rejected. */
  get dead(): boolean {
    return this.isDead;
  }

  get threshold(): number | undefined {
    return this.thresholdValue;
  }

  /** Feeds the next segment and its loss; returns the segments accepted now, in training order. */
  push(segment: T, loss: number): T[] {
    if (this.isDead) return [];
    const entry = { segment, loss: Number.isFinite(loss) ? loss : Infinity };
    if (!this.converged) return this.detectStart(entry);
    this.pending.push(entry);
    return this.acceptSettled();
  }

  snapshot(): LossValleyState<T> {
    return { recent: [...this.recent], pending: [...this.pending], threshold: this.thresholdValue ?? null, dead: this.isDead };
  }

  restore(state: LossValleyState<T>): void {
    this.recent = [...state.recent];
    this.pending = [...state.pending];
    this.thresholdValue = state.threshold ?? undefined;
    this.isDead = state.dead;
  }

  /** At the end of training: the pending segments still inside the valley. */
  finish(): T[] {
    if (!this.converged || this.isDead) return [];
    const out: T[] = [];
    while (this.pending.length > 0 && minLoss(this.pending) <= this.thresholdValue!) out.push(this.pending.shift()!.segment);
    this.pending = [];
    return out;
  }

  private detectStart(entry: Entry<T>): T[] {
    this.recent.push(entry);
    if (this.recent.length > this.history) this.recent.shift();
    const { nConverge, toleranceRatio } = this.options;
    if (this.recent.length < nConverge) return [];
    const window = this.recent.slice(-nConverge);
    const losses = window.map((e) => e.loss);
    if (losses.indexOf(Math.min(...losses)) !== 0) return [];
    const threshold = (1 + toleranceRatio) * (losses.reduce((a, b) => a + b, 0) / nConverge);
    this.thresholdValue = threshold;
    const startIndex = this.recent.length - nConverge;
    let first = startIndex;
    while (first > 0 && this.recent[first - 1]!.loss <= threshold) first--;
    const accepted = this.recent.slice(first, startIndex + 1).map((e) => e.segment);
    this.pending = window.slice(1);
    this.recent = [];
    return [...accepted, ...this.acceptSettled()];
  }

  private acceptSettled(): T[] {
    const out: T[] = [];
    const n = this.options.nTolerance;
    while (this.pending.length >= n) {
      if (minLoss(this.pending.slice(0, n)) > this.thresholdValue!) {
        this.isDead = true;
        this.pending = [];
        break;
      }
      out.push(this.pending.shift()!.segment);
    }
    return out;
  }
}

function minLoss<T>(entries: Array<Entry<T>>): number {
  return Math.min(...entries.map((e) => e.loss));
}
