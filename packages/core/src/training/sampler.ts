import { Rng, type RngState } from '../math/rng.js';

export interface SamplerState {
  rng: RngState;
  order: number[];
  pos: number;
}

/**
 * Endless minibatches over a fixed index set: shuffled epochs without replacement. Its whole state
 * (generator, current order, position) can be saved and restored for an exact resume.
 */
export class InfiniteSampler {
  private order: Int32Array;
  private pos = 0;
  private readonly rng: Rng;

  constructor(
    private readonly indices: Int32Array,
    seed: number,
  ) {
    if (indices.length === 0) throw new Error('cannot sample from an empty index set');
    this.rng = new Rng(seed);
    this.order = this.reshuffle();
  }

  private reshuffle(): Int32Array {
    const o = this.indices.slice();
    this.rng.shuffle(o);
    return o;
  }

  next(batchSize: number): Int32Array {
    const out = new Int32Array(batchSize);
    for (let i = 0; i < batchSize; i++) {
      if (this.pos >= this.order.length) {
        this.order = this.reshuffle();
        this.pos = 0;
      }
      out[i] = this.order[this.pos++]!;
    }
    return out;
  }

  getState(): SamplerState {
    return { rng: this.rng.getState(), order: Array.from(this.order), pos: this.pos };
  }

  setState(s: SamplerState): void {
    this.rng.setState(s.rng);
    this.order = Int32Array.from(s.order);
    this.pos = s.pos;
  }
}
