import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { decodeOnnxModel } from '../onnx/decode-model.js';
import { parseMetadataProps, type ModelMetadata } from '../export/model-metadata.js';
import { imageInput } from './image-input.js';
import { ModelInputError } from './model-input-error.js';
import { argmaxRows, softmaxRows } from './tensor-layout.js';

export interface Prediction {
  classIndex: number;
  className: string;
  probability: number;
  probabilities: number[];
}

export interface LoadOptions {
  /** ONNX Runtime's intra-op threads (default: its own choice). */
  threads?: number;
  /** Graph optimisation level (default 'all', the level the exporter's tests check). */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

/**
 * A model written by `qtdog export --format onnx`, run by ONNX Runtime in Node: the metadata it
 * carries (classes, preprocessing, domains) and predictions from image files or from tensors.
 */
export class QtdogModel {
  private constructor(
    readonly file: string,
    readonly metadata: ModelMetadata,
    private readonly session: ort.InferenceSession,
  ) {}

  static async load(file: string, opts: LoadOptions = {}): Promise<QtdogModel> {
    let bytes: Uint8Array;
    try {
      bytes = readFileSync(file);
    } catch (e) {
      throw new ModelInputError(`${file}: cannot read the model (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let metadata: ModelMetadata | undefined;
    try {
      metadata = parseMetadataProps(decodeOnnxModel(bytes).metadata);
    } catch (e) {
      throw new ModelInputError(`${file}: not a valid ONNX model (${(e as Error).message.split('\n')[0]})`);
    }
    if (!metadata) throw new ModelInputError(`${file}: an ONNX model without qtdog metadata (export it with qtdog export --format onnx)`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        graphOptimizationLevel: opts.optimization ?? 'all',
        ...(opts.threads ? { intraOpNumThreads: opts.threads, interOpNumThreads: 1 } : {}),
      });
    } catch (e) {
      throw new ModelInputError(`${file}: ONNX Runtime cannot load the model (${(e as Error).message.split('\n')[0]})`);
    }
    return new QtdogModel(file, metadata, session);
  }

  /** Logits [n, classes] of inputs already preprocessed, [n, c, h, w] row-major. */
  async logits(x: Float32Array, n: number): Promise<Float32Array> {
    const [c, h, w] = this.metadata.input.shape;
    if (x.length !== n * c * h * w) throw new ModelInputError(`input holds ${x.length} values; ${n} x ${c}x${h}x${w} expected`);
    const out = await this.session.run({ [this.metadata.input.name]: new ort.Tensor('float32', x, [n, c, h, w]) });
    return out.logits!.data as Float32Array;
  }

  /** Logits to predictions (softmax probabilities, the arg max and its class name). */
  predictionsOf(logits: Float32Array): Prediction[] {
    const k = this.metadata.classNames.length;
    const probs = softmaxRows(logits, k);
    return argmaxRows(logits, k).map((classIndex, r) => ({
      classIndex,
      className: this.metadata.classNames[classIndex]!,
      probability: probs[r * k + classIndex]!,
      probabilities: Array.from(probs.subarray(r * k, (r + 1) * k)),
    }));
  }

  /** The image file's (or encoded image's) input: the same preprocessing as evaluation. */
  async input(image: string | Uint8Array): Promise<Float32Array> {
    return imageInput(image, this.metadata.preprocessing);
  }

  /** Classifies image files (PNG, JPEG, ... anything sharp decodes). */
  async predict(images: Array<string | Uint8Array>): Promise<Prediction[]> {
    const inputs = await Promise.all(images.map((f) => this.input(f)));
    const size = inputs[0]?.length ?? 0;
    const x = new Float32Array(size * inputs.length);
    inputs.forEach((v, i) => x.set(v, i * size));
    return inputs.length === 0 ? [] : this.predictionsOf(await this.logits(x, inputs.length));
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}
