/** A batch of examples as plain arrays: x is NHWC float32, y holds class indices. */
export interface Batch {
  readonly x: Float32Array;
  readonly y: Int32Array;
  readonly n: number;
}

/** One environment (domain) of a dataset, addressable by example index. */
export interface EnvironmentData {
  readonly name: string;
  readonly size: number;
  /** Reads the examples at `indices` (train = apply training augmentation, if the dataset has one). */
  read(indices: ArrayLike<number>, mode: 'train' | 'eval'): Batch | Promise<Batch>;
  /**
   * Number of training reads so far, for environments whose augmentation is seeded per read: the
   * run state saves it and a resumed run restores it, so the augmentation stream continues exactly.
   */
  readCount?: number;
}

/**
 * A multi-domain dataset (DomainBed's MultipleDomainDataset). Shapes are known before loading so the
 * network can be built first; `load` does the I/O.
 */
export interface DomainDataset {
  readonly name: string;
  readonly environments: readonly string[];
  /** [height, width, channels] of one example (NHWC). */
  readonly inputShape: readonly [number, number, number];
  readonly numClasses: number;
  /** Name of each class index; exported models carry them so users need not look them up. */
  readonly classNames?: readonly string[];
  /** How a raw image becomes the network's input in evaluation (what a deployed model must repeat). */
  readonly preprocessing?: EvalPreprocessing;
  load(): Promise<EnvironmentData[]>;
}

/**
 * The evaluation transform of a dataset, as data: the image is `size` ([height, width]), resized to
 * it (bilinear, aspect ratio not kept) when `resize`, else required at that size; take `channels`
 * (1: grayscale, 3: RGB), divide bytes by 255, then `(x - mean[c]) / std[c]`.
 */
export interface EvalPreprocessing {
  size: [number, number];
  resize: boolean;
  channels: number;
  mean: number[];
  std: number[];
}
