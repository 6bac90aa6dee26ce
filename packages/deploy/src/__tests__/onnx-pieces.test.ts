// The small pure pieces of the ONNX exporter, against numbers worked out by hand.
import { describe, expect, it } from 'vitest';
import { uint8Scale } from '../export/calibration.js';
import { hwioToOihw, ptqConvCodes } from '../export/weight-codes.js';
import { packInt4 } from '../onnx/onnx-graph.js';
import { argmaxRows, nhwcToNchw, softmaxRows } from '../runtime/tensor-layout.js';

describe('ONNX exporter pieces', () => {
  it('packs int4 two per byte, the first value in the low nibble (two\'s complement)', () => {
    // 1 -> 0x1, -1 -> 0xf, 7 -> 0x7, -8 -> 0x8, 3 -> 0x3
    expect(Array.from(packInt4([1, -1, 7, -8, 3]))).toEqual([0xf1, 0x87, 0x03]);
    expect(() => packInt4([8])).toThrow(RangeError);
  });

  it('moves a conv weight from [kh, kw, cin, cout] to [cout, cin, kh, kw]', () => {
    // kh = 1, kw = 2, cin = 1, cout = 2: w[0][x][0][o] = 10 * x + o
    const hwio = Float32Array.from([0, 1, 10, 11]);
    expect(Array.from(hwioToOihw(hwio, [1, 2, 1, 2]))).toEqual([0, 10, 1, 11]);
  });

  it('post-training codes: per output channel, max |w| maps to 127', () => {
    const q = ptqConvCodes({ name: 'w', shape: [1, 1, 2, 2], values: Float32Array.from([1, -0.5, -2, 0.25]) });
    // channel 0: [1, -2] -> s = 2/127; channel 1: [-0.5, 0.25] -> s = 0.5/127
    expect(Array.from(q.scales)).toEqual([Math.fround(2 / 127), Math.fround(0.5 / 127)]);
    expect(Array.from(q.codes)).toEqual([64, -127, -127, 64]);
  });

  it('uint8 affine scales keep zero exact', () => {
    const check = (lo: number, hi: number, scale: number, zeroPoint: number) => {
      const q = uint8Scale(lo, hi);
      expect(q.scale).toBeCloseTo(scale, 12);
      expect(q.zeroPoint).toBe(zeroPoint);
    };
    check(0, 2.55, 0.01, 0);
    check(-1, 1.55, 0.01, 100);
    check(0.5, 2.55, 0.01, 0); // widened to hold 0
  });

  it('NHWC to NCHW, arg max and softmax by row', () => {
    // n = 1, h = 1, w = 2, c = 2: pixels (a0, a1), (b0, b1) -> channel 0 (a0, b0), channel 1 (a1, b1)
    expect(Array.from(nhwcToNchw(Float32Array.from([1, 2, 3, 4]), 1, 1, 2, 2))).toEqual([1, 3, 2, 4]);
    expect(argmaxRows(Float32Array.from([0, 5, 1, 9, 2, 3]), 3)).toEqual([1, 0]);
    const p = softmaxRows(Float32Array.from([0, Math.log(3)]), 2);
    expect(p[0]).toBeCloseTo(0.25, 6);
    expect(p[1]).toBeCloseTo(0.75, 6);
  });
});
