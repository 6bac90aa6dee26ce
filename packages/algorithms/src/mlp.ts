import * as tf from '@tensorflow/tfjs-core';
import { ParamSet, Rng } from '@qtdog/core';

export interface MlpOptions {
  width: number;
  /** Number of linear layers (DomainBed's mlp_depth): input, depth - 2 hidden, output. */
  depth: number;
  dropout: number;
}

/** One forward pass: logits and, per hidden layer, d(activation)/d(pre-activation) (ReLU gate times dropout mask). */
export interface MlpPass {
  logits: tf.Tensor2D;
  gates: tf.Tensor2D[];
}

let mlpCounter = 0;

/**
 * DomainBed's MLP (networks.MLP): Linear -> Dropout -> ReLU for every layer but the last, PyTorch's
 * default initialisation U(+-1/sqrt(fan_in)) drawn from a seeded Rng. Its backward pass to the input
 * is written out (`inputGradient`), so a gradient penalty on it needs only first-order autodiff.
 */
export class Mlp {
  readonly params = new ParamSet();
  private readonly names: Array<{ weight: string; bias: string }> = [];

  constructor(
    nIn: number,
    nOut: number,
    readonly options: MlpOptions,
    seed: number,
    prefix = 'mlp',
  ) {
    if (options.depth < 2) throw new RangeError(`MLP depth must be at least 2, got ${options.depth}`);
    const rng = new Rng(seed);
    const id = `${prefix}#${++mlpCounter}`;
    const sizes = [nIn, ...Array.from({ length: options.depth - 1 }, () => options.width), nOut];
    tf.tidy(() => {
      for (let k = 0; k + 1 < sizes.length; k++) {
        const [fanIn, fanOut] = [sizes[k]!, sizes[k + 1]!];
        const layer = k === sizes.length - 2 ? 'output' : k === 0 ? 'input' : `hidden${k}`;
        const bound = 1 / Math.sqrt(fanIn);
        const draw = (n: number) => Float32Array.from({ length: n }, () => rng.uniform(-bound, bound));
        const weight = `${prefix}.${layer}.weight`;
        const bias = `${prefix}.${layer}.bias`;
        this.params.add({ name: weight, layer, role: 'dense', variable: tf.variable(tf.tensor2d(draw(fanIn * fanOut), [fanIn, fanOut]), true, `${id}/${weight}`) });
        this.params.add({ name: bias, layer, role: 'bias', variable: tf.variable(tf.tensor1d(draw(fanOut)), true, `${id}/${bias}`) });
        this.names.push({ weight, bias });
      }
    });
  }

  private w(k: number): tf.Variable {
    return this.params.get(this.names[k]!.weight).variable;
  }

  private b(k: number): tf.Variable {
    return this.params.get(this.names[k]!.bias).variable;
  }

  /** Inverted-dropout masks for a batch of n rows (values 0 or 1/(1-p)), one per hidden layer; none when p = 0. */
  dropoutMasks(n: number, rng: Rng): tf.Tensor2D[] | undefined {
    const p = this.options.dropout;
    if (p <= 0) return undefined;
    return this.names.slice(0, -1).map(() => {
      const m = Float32Array.from({ length: n * this.options.width }, () => (rng.next() >= p ? 1 / (1 - p) : 0));
      return tf.tensor2d(m, [n, this.options.width]);
    });
  }

  forward(x: tf.Tensor2D, masks?: tf.Tensor2D[]): MlpPass {
    return tf.tidy(() => {
      const gates: tf.Tensor2D[] = [];
      let h: tf.Tensor2D = x;
      const last = this.names.length - 1;
      for (let k = 0; k < last; k++) {
        let u = tf.add(tf.matMul(h, this.w(k)), this.b(k)) as tf.Tensor2D;
        const mask = masks?.[k];
        if (mask) u = tf.mul(u, mask);
        const gate = tf.step(u) as tf.Tensor2D;
        gates.push(mask ? (tf.mul(gate, mask) as tf.Tensor2D) : gate);
        h = tf.relu(u);
      }
      return { logits: tf.add(tf.matMul(h, this.w(last)), this.b(last)) as tf.Tensor2D, gates };
    });
  }

  /** Backpropagates d(loss)/d(logits) of a pass to its input: d(loss)/dx. */
  inputGradient(dLogits: tf.Tensor2D, pass: MlpPass): tf.Tensor2D {
    return tf.tidy(() => {
      let d = tf.matMul(dLogits, this.w(this.names.length - 1), false, true) as tf.Tensor2D;
      for (let k = pass.gates.length - 1; k >= 0; k--) d = tf.matMul(tf.mul(d, pass.gates[k]!), this.w(k), false, true) as tf.Tensor2D;
      return d;
    });
  }

  dispose(): void {
    this.params.dispose();
  }
}
