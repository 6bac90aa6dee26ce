/** A uint8 affine quantization of one activation tensor: `x = (q - zeroPoint) * scale`. */
export interface ActivationScale {
  scale: number;
  zeroPoint: number;
  /** Values above this are clipped before quantizing (an LSQ activation range narrower than 8 bits). */
  clipMax?: number;
}

/**
 * What the graph writer does at each activation point a network declares (its input, each ReLU
 * output, each normalisation output):
 * - `float`: nothing (the weight-only and float32 models);
 * - `probe`: adds the tensor as an extra graph output, so calibration can run the float model once
 *   and read every point;
 * - `qdq`: QuantizeLinear + DequantizeLinear with the given scale, which lets ONNX Runtime run the
 *   convolutions between them as QLinearConv.
 */
export type ActivationPolicy =
  | { kind: 'float' }
  | { kind: 'probe' }
  | { kind: 'qdq'; scales: ReadonlyMap<string, ActivationScale> };
