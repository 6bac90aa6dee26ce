import type { ExportTensor } from '@qtdog/quantizers';

/** A conv weight as integer codes in ONNX's [cout, cin, kh, kw] layout, with one scale per output channel or one per tensor. */
export interface ConvCodes {
  dims: number[];
  codes: Int32Array;
  bits: number;
  /** Length cout (per output channel) or 1 (per tensor). */
  scales: Float32Array;
}

/** TensorFlow's conv layout [kh, kw, cin, cout] to ONNX's [cout, cin, kh, kw]. */
export function hwioToOihw<T extends Float32Array | Int32Array>(values: T, shape: number[]): T {
  const [kh, kw, ci, co] = shape as [number, number, number, number];
  const out = new (values.constructor as { new (n: number): T })(values.length);
  for (let h = 0; h < kh; h++)
    for (let w = 0; w < kw; w++)
      for (let i = 0; i < ci; i++)
        for (let o = 0; o < co; o++) out[((o * ci + i) * kh + h) * kw + w] = values[((h * kw + w) * ci + i) * co + o]!;
  return out;
}

/**
 * The codes a trained quantizer stored for this weight, transposed to ONNX's layout; undefined for
 * a float weight. Scales of shape [1, 1, 1, cout] are per output channel.
 */
export function trainedConvCodes(t: ExportTensor): ConvCodes | undefined {
  if (!('codes' in t)) return undefined;
  const [kh, kw, ci, co] = t.shape as [number, number, number, number];
  return { dims: [co, ci, kh, kw], codes: hwioToOihw(t.codes, t.shape), bits: t.bits, scales: t.scales };
}

/**
 * Post-training 8-bit symmetric quantization per output channel, for a weight trained in float (the
 * PTQ baseline): `s = max|w| / 127`, codes in [-127, 127] (ONNX Runtime's own quantizer's choice).
 */
export function ptqConvCodes(t: Extract<ExportTensor, { values: Float32Array }>): ConvCodes {
  const [kh, kw, ci, co] = t.shape as [number, number, number, number];
  const w = hwioToOihw(t.values, t.shape);
  const per = ci * kh * kw;
  const scales = new Float32Array(co);
  const codes = new Int32Array(w.length);
  for (let o = 0; o < co; o++) {
    let m = 0;
    for (let j = 0; j < per; j++) m = Math.max(m, Math.abs(w[o * per + j]!));
    const s = m > 0 ? m / 127 : 1;
    scales[o] = s;
    for (let j = 0; j < per; j++) codes[o * per + j] = Math.round(w[o * per + j]! / s);
  }
  return { dims: [co, ci, kh, kw], codes, bits: 8, scales };
}
