import { DataError, type Batch, type EnvironmentData } from '@qtdog/core';

/**
 * An environment whose examples are all precomputed in memory (NHWC float32 rows), so reading a
 * minibatch is a copy. MNIST-sized environments (~10k images) fit easily; there is no augmentation,
 * so 'train' and 'eval' reads are the same.
 */
export class InMemoryEnvironment implements EnvironmentData {
  readonly size: number;
  private readonly rowLength: number;

  constructor(
    readonly name: string,
    /** size * rowLength values, example i at [i*rowLength, (i+1)*rowLength). */
    private readonly x: Float32Array,
    private readonly y: Int32Array,
  ) {
    this.size = y.length;
    if (this.size === 0) throw new DataError(`environment '${name}' has no examples`);
    this.rowLength = x.length / this.size;
    if (!Number.isInteger(this.rowLength)) {
      throw new DataError(`environment '${name}': ${x.length} values do not split into ${this.size} examples`);
    }
  }

  read(indices: ArrayLike<number>, _mode: 'train' | 'eval'): Batch {
    const n = indices.length;
    const len = this.rowLength;
    const x = new Float32Array(n * len);
    const y = new Int32Array(n);
    for (let k = 0; k < n; k++) {
      const i = indices[k]!;
      if (!Number.isInteger(i) || i < 0 || i >= this.size) {
        throw new DataError(`environment '${this.name}': index ${i} out of range [0, ${this.size})`);
      }
      x.set(this.x.subarray(i * len, (i + 1) * len), k * len);
      y[k] = this.y[i]!;
    }
    return { x, y, n };
  }
}
