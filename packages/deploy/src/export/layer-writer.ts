import type { ExportTensor } from '@qtdog/quantizers';
import { OnnxGraph } from '../onnx/onnx-graph.js';
import { OnnxDataType } from '../onnx/onnx-types.js';
import type { ActivationPolicy } from './activation-policy.js';
import { hwioToOihw, ptqConvCodes, trainedConvCodes, type ConvCodes } from './weight-codes.js';

/** How the convolution weights are stored. */
export type WeightMode =
  /** Every weight float32 (the dequantized values a fake-quantized model computes with). */
  | 'float32'
  /** Trained integer codes via DequantizeLinear (int4 storage up to 4 bits, int8 up to 8); float weights stay float. */
  | 'weight-only'
  /** Every conv weight int8 (trained codes, else post-training per-channel quantization), for QLinearConv. */
  | 'int8';

/** One layer's record for the model's metadata. */
export interface LayerRecord {
  layer: string;
  bits: number | 'float32';
  storage: 'int4' | 'int8' | 'float32';
  source: 'trained' | 'post-training' | 'float';
}

export interface LayerWriterOptions {
  weights: WeightMode;
  activations: ActivationPolicy;
}

/**
 * Writes a network's layers into an ONNX graph (NCHW), one call per layer, from the tensors of a
 * qtdog export (TensorFlow layouts, by parameter name). Keeps the per-layer record the metadata lists
 * and, in QDQ mode, the scale of every dequantized activation (a conv's int32 bias needs it).
 */
export class LayerWriter {
  readonly layers: LayerRecord[] = [];
  /** Points whose tensors the `probe` policy added as outputs: point -> output name. */
  readonly probes = new Map<string, string>();
  private readonly activationScale = new Map<string, number>();

  constructor(
    private readonly tensors: ReadonlyMap<string, ExportTensor>,
    private readonly opts: LayerWriterOptions,
    /** The graph to write into (an ensemble shares one across its members). */
    readonly g = new OnnxGraph(),
  ) {}

  tensor(name: string): ExportTensor {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`export: the model has no parameter '${name}'`);
    return t;
  }

  floats(name: string): Float32Array {
    const t = this.tensor(name);
    if (!('values' in t)) throw new Error(`export: '${name}' is stored as integers where floats are expected`);
    return t.values;
  }

  /** The activation point `point` of tensor `x`, as the policy says (see ActivationPolicy). */
  activation(point: string, x: string): string {
    const p = this.opts.activations;
    if (p.kind === 'float') return x;
    if (p.kind === 'probe') {
      // Through an Identity: a graph input cannot also be a graph output.
      const probe = this.g.node('Identity', [x], `${point}.probe`);
      this.g.output(probe, OnnxDataType.FLOAT);
      this.probes.set(point, probe);
      return x;
    }
    const a = p.scales.get(point);
    if (!a) throw new Error(`export: no activation scale for '${point}'`);
    const s = this.g.float(`${point}.act_scale`, [], [a.scale]);
    const zp = this.g.uint8(`${point}.act_zero_point`, [], [a.zeroPoint]);
    const clipped = a.clipMax === undefined ? x : this.g.node('Clip', [x, this.g.float(`${point}.act_min`, [], [0]), this.g.float(`${point}.act_max`, [], [a.clipMax])], `${point}.clip`);
    const q = this.g.node('QuantizeLinear', [clipped, s, zp], `${point}.q`);
    const dq = this.g.node('DequantizeLinear', [q, s, zp], `${point}.dq`);
    this.activationScale.set(dq, Math.fround(a.scale));
    return dq;
  }

  private convCodes(name: string, t: ExportTensor): { codes: ConvCodes; source: LayerRecord['source'] } | undefined {
    const trained = trainedConvCodes(t);
    if (this.opts.weights === 'float32') return undefined;
    if (this.opts.weights === 'weight-only') return trained && trained.bits <= 8 ? { codes: trained, source: 'trained' } : undefined;
    if (trained && trained.bits <= 8) return { codes: trained, source: 'trained' };
    if ('values' in t) return { codes: ptqConvCodes(t), source: 'post-training' };
    throw new Error(`export --int8: '${name}' has ${trained?.bits}-bit codes, more than int8 holds`);
  }

  /** The weight as a float tensor name: an initializer, or DequantizeLinear of stored codes. Also returns its per-channel scales when quantized. */
  private convWeight(layer: string, name: string, fold?: Float32Array): { w: string; scales?: Float32Array } {
    const t = this.tensor(name);
    const q = this.convCodes(name, t);
    if (!q) {
      const values = 'values' in t ? t.values : dequantize(t);
      const [kh, kw, ci, co] = t.shape as [number, number, number, number];
      this.layers.push({ layer, bits: 'float32', storage: 'float32', source: 'float' });
      const oihw = hwioToOihw(values, t.shape);
      if (fold) for (let i = 0; i < oihw.length; i++) oihw[i]! *= fold[Math.floor(i / (ci * kh * kw))]!;
      return { w: this.g.float(name, [co, ci, kh, kw], oihw) };
    }
    const { source } = q;
    // A folded BatchNorm scales each output channel: the codes stay, the scales take the factor.
    const codes = fold ? { ...q.codes, scales: Float32Array.from(fold, (a, c) => a * q.codes.scales[q.codes.scales.length > 1 ? c : 0]!) } : q.codes;
    // int4 storage only for weight-only models: ONNX Runtime fuses QLinearConv for 8-bit weights alone.
    const int4 = this.opts.weights === 'weight-only' && codes.bits <= 4;
    const storage = int4 ? 'int4' : 'int8';
    this.layers.push({ layer, bits: codes.bits, storage, source });
    const perChannel = codes.scales.length > 1;
    const sDims = perChannel ? [codes.scales.length] : [];
    const stored = int4 ? this.g.int4(`${name}.codes`, codes.dims, codes.codes) : this.g.int8(`${name}.codes`, codes.dims, codes.codes);
    const zeros = new Array(codes.scales.length).fill(0);
    const zp = int4 ? this.g.int4(`${name}.zero_point`, sDims, zeros) : this.g.int8(`${name}.zero_point`, sDims, zeros);
    const s = this.g.float(`${name}.scale`, sDims, codes.scales);
    const w = this.g.node('DequantizeLinear', [stored, s, zp], name, perChannel ? { axis: { i: 0 } } : undefined);
    const cout = codes.dims[0]!;
    return { w, scales: perChannel ? codes.scales : new Float32Array(cout).fill(codes.scales[0]!) };
  }

  /**
   * A 2-D convolution (square kernel, symmetric padding) with an optional bias (float values, or
   * `bias` given directly). In QDQ mode with a quantized input the bias is int32 at scale
   * input scale x weight scale, the form ONNX Runtime's QLinearConv fusion requires.
   */
  conv(x: string, layer: string, weight: string, o: { stride: number; pad: number; bias?: Float32Array; dilation?: number; fold?: Float32Array }): string {
    const { w, scales } = this.convWeight(layer, weight, o.fold);
    const [kh, kw] = this.tensor(weight).shape as [number, number];
    const inputs = [x, w];
    const sx = this.activationScale.get(x);
    if (o.bias) {
      if (this.opts.activations.kind === 'qdq' && scales && sx !== undefined) {
        const bs = Float32Array.from(scales, (sw) => sx * sw);
        const codes = Int32Array.from(o.bias, (b, c) => Math.round(b / bs[c]!));
        const q = this.g.int32(`${layer}.bias.codes`, [o.bias.length], codes);
        const s = this.g.float(`${layer}.bias.scale`, [o.bias.length], bs);
        const zp = this.g.int32(`${layer}.bias.zero_point`, [o.bias.length], new Int32Array(o.bias.length));
        inputs.push(this.g.node('DequantizeLinear', [q, s, zp], `${layer}.bias`, { axis: { i: 0 } }));
      } else {
        inputs.push(this.g.float(`${layer}.bias`, [o.bias.length], o.bias));
      }
    }
    return this.g.node('Conv', inputs, layer, {
      kernel_shape: { ints: [kh, kw] },
      strides: { ints: [o.stride, o.stride] },
      pads: { ints: [o.pad, o.pad, o.pad, o.pad] },
      dilations: { ints: [o.dilation ?? 1, o.dilation ?? 1] },
    });
  }

  /**
   * A conv followed by an eval-mode BatchNorm, folded into one conv: per output channel
   * a = gamma / sqrt(runningVar + eps) scales the weight, and beta - runningMean * a is the bias.
   */
  convBatchNorm(x: string, layer: string, bn: string, o: { stride: number; pad: number }, eps = 1e-5): string {
    const gamma = this.floats(`${bn}.gamma`);
    const beta = this.floats(`${bn}.beta`);
    const mean = this.floats(`${bn}.runningMean`);
    const variance = this.floats(`${bn}.runningVar`);
    const fold = Float32Array.from(gamma, (g, c) => g / Math.sqrt(variance[c]! + eps));
    const bias = Float32Array.from(beta, (b, c) => b - mean[c]! * fold[c]!);
    return this.conv(x, layer, `${layer}.weight`, { ...o, bias, fold });
  }

  maxPool(x: string, stem: string, k: number, stride: number, pad: number): string {
    return this.g.node('MaxPool', [x], stem, { kernel_shape: { ints: [k, k] }, strides: { ints: [stride, stride] }, pads: { ints: [pad, pad, pad, pad] } });
  }

  add(a: string, b: string, stem: string): string {
    return this.g.node('Add', [a, b], stem);
  }

  relu(x: string, stem: string): string {
    return this.g.node('Relu', [x], stem);
  }

  /**
   * GroupNorm as ONNX ops (PyTorch's semantics: groups of consecutive channels, biased variance):
   * reshape to [N, groups, -1], InstanceNormalization over the last axis, reshape back, then the
   * per-channel gamma and beta. Works at any opset >= 6 and on every ONNX Runtime build.
   */
  groupNorm(x: string, stem: string, groups: number, gamma: Float32Array, beta: Float32Array, eps = 1e-5): string {
    const c = gamma.length;
    const shape = this.g.node('Shape', [x], `${stem}.shape`);
    const grouped = this.g.node('Reshape', [x, this.g.int64(`${stem}.grouped_shape`, [3], [0, groups, -1])], `${stem}.grouped`);
    const normed = this.g.node(
      'InstanceNormalization',
      [grouped, this.g.float(`${stem}.ones`, [groups], new Array(groups).fill(1)), this.g.float(`${stem}.zeros`, [groups], new Array(groups).fill(0))],
      `${stem}.normed`,
      { epsilon: { f: eps } },
    );
    const back = this.g.node('Reshape', [normed, shape], `${stem}.ungrouped`);
    const scaled = this.g.node('Mul', [back, this.g.float(`${stem}.gamma`, [c, 1, 1], gamma)], `${stem}.scaled`);
    return this.g.node('Add', [scaled, this.g.float(`${stem}.beta`, [c, 1, 1], beta)], stem);
  }

  /** Global average pooling to [N, C]. */
  globalAveragePool(x: string, stem: string): string {
    const pooled = this.g.node('GlobalAveragePool', [x], `${stem}.pooled`);
    return this.g.node('Flatten', [pooled], stem, { axis: { i: 1 } });
  }

  /** x [N, in] times the dense weight [in, out] plus bias: the float classifier. */
  dense(x: string, layer: string, weight: string, bias: string): string {
    const t = this.tensor(weight);
    const values = 'values' in t ? t.values : dequantize(t);
    this.layers.push({ layer, bits: 'float32', storage: 'float32', source: 'float' });
    return this.g.node('Gemm', [x, this.g.float(weight, t.shape, values), this.g.float(bias, [t.shape[1]!], this.floats(bias))], layer);
  }
}

/** codes * scales in float32, broadcast as the qtdog export format defines. */
function dequantize(t: Extract<ExportTensor, { codes: Int32Array }>): Float32Array {
  const out = new Float32Array(t.codes.length);
  const n = t.scales.length;
  for (let i = 0; i < out.length; i++) out[i] = Math.fround(t.codes[i]! * t.scales[n === 1 ? 0 : i % n]!);
  return out;
}
