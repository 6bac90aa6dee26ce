import { describe, expect, it } from 'vitest';
import { Rng } from '@qtdog/core';
import { packedByteLength, packSigned, unpackSigned } from '../index.js';

describe('bit packing of signed integers', () => {
  it('lays values out as a little-endian bit stream of two\'s complement fields (hand-checked)', () => {
    // 3 bits: 1 -> 001, -1 -> 111, 3 -> 011, -4 -> 100; stream LSB first:
    // bits 0-2 = 1,0,0 | bits 3-5 = 1,1,1 | bits 6-8 = 1,1,0 | bits 9-11 = 0,0,1
    // byte 0 = bits 0..7 = 1,0,0,1,1,1,1,1 -> 0b11111001 = 0xf9; byte 1 = bits 8..11 = 0,0,0,1 -> 0x08
    const bytes = packSigned(Int32Array.from([1, -1, 3, -4]), 3);
    expect(Array.from(bytes)).toEqual([0xf9, 0x08]);
    expect(Array.from(unpackSigned(bytes, 3, 4))).toEqual([1, -1, 3, -4]);
  });

  it('round-trips every value of every width from 2 to 8 bits, in ceil(n*b/8) bytes', () => {
    const rng = new Rng(7);
    for (let bits = 2; bits <= 8; bits++) {
      const lo = -(2 ** (bits - 1));
      const hi = 2 ** (bits - 1) - 1;
      const n = 1001;
      const v = Int32Array.from({ length: n }, (_, i) => (i < hi - lo + 1 ? lo + i : lo + rng.int(hi - lo + 1)));
      const packed = packSigned(v, bits);
      expect(packed.length).toBe(packedByteLength(n, bits));
      expect(packed.length).toBe(Math.ceil((n * bits) / 8));
      expect(Array.from(unpackSigned(packed, bits, n))).toEqual(Array.from(v));
    }
  });

  it('refuses values outside the signed range and too few bytes', () => {
    expect(() => packSigned(Int32Array.from([64]), 7)).toThrow(/value 64 at index 0 does not fit in 7 signed bits \[-64, 63\]/);
    expect(() => unpackSigned(new Uint8Array(1), 7, 2)).toThrow(/need 2 bytes, got 1/);
  });
});
