/**
 * Signed integers at `bits` bits each, as one little-endian bit stream: value i occupies stream bits
 * [i*bits, (i+1)*bits), stream bit j is bit (j % 8) of byte floor(j / 8), and each value is stored
 * in two's complement on `bits` bits (least significant bit first). The last byte is zero-padded.
 */
export function packSigned(values: Int32Array, bits: number): Uint8Array {
  checkBits(bits);
  const lo = -(2 ** (bits - 1));
  const hi = 2 ** (bits - 1) - 1;
  const mask = (1 << bits) - 1;
  const out = new Uint8Array(packedByteLength(values.length, bits));
  let acc = 0; // pending bits, least significant first
  let nAcc = 0;
  let pos = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < lo || v > hi || !Number.isInteger(v)) throw new RangeError(`packSigned: value ${v} at index ${i} does not fit in ${bits} signed bits [${lo}, ${hi}]`);
    acc |= (v & mask) << nAcc;
    nAcc += bits;
    while (nAcc >= 8) {
      out[pos++] = acc & 0xff;
      acc >>>= 8;
      nAcc -= 8;
    }
  }
  if (nAcc > 0) out[pos] = acc & 0xff;
  return out;
}

/** Inverse of packSigned: `count` values of `bits` bits from `bytes`, sign-extended. */
export function unpackSigned(bytes: Uint8Array, bits: number, count: number): Int32Array {
  checkBits(bits);
  const need = packedByteLength(count, bits);
  if (bytes.length < need) throw new RangeError(`unpackSigned: ${count} values of ${bits} bits need ${need} bytes, got ${bytes.length}`);
  const out = new Int32Array(count);
  const mask = (1 << bits) - 1;
  const signBit = 1 << (bits - 1);
  let acc = 0;
  let nAcc = 0;
  let pos = 0;
  for (let i = 0; i < count; i++) {
    while (nAcc < bits) {
      acc |= bytes[pos++]! << nAcc;
      nAcc += 8;
    }
    const u = acc & mask;
    acc >>>= bits;
    nAcc -= bits;
    out[i] = u & signBit ? u - (1 << bits) : u;
  }
  return out;
}

/** Bytes of `count` values packed at `bits` bits: ceil(count * bits / 8). */
export function packedByteLength(count: number, bits: number): number {
  return Math.ceil((count * bits) / 8);
}

function checkBits(bits: number): void {
  // Up to 16 keeps the accumulator (at most 7 pending + 16 new bits) inside 32-bit integer ops.
  if (!Number.isInteger(bits) || bits < 1 || bits > 16) throw new RangeError(`bit packing supports 1 to 16 bits, got ${bits}`);
}
