// AssemblyScript source of a direct convolution in wasm SIMD, forward and input gradient, for the
// wasm backend's Conv2D and Conv2DBackpropInput where the filter is large and the output small
// (ResNet's last stages). Compiled by `node tools/kernels/build-wasm.mjs` into
// src/generated/conv2d-direct-wasm.ts; a test checks the committed binary against this source.
//
// Why: XNNPACK, as tfjs-backend-wasm calls it, lays out and packs a filter the first time it sees
// it. In training every filter is new at every step, so every forward convolution and every input
// gradient pays that packing. For ResNet-18's 3x3 512->512 filters at 2x2 outputs (24 images) it
// costs twice the arithmetic (docs/benchmarks.md). These kernels read the filter where it lies, in
// its HWIO layout: nothing is packed.
//
// Like group-norm.ts it imports the wasm backend's memory and has no static data. All pointers are
// byte offsets into that memory; `zero` points at max(CI, CO) zeros, which stand for the padding,
// and `pack` at KH*KW*CI*8 floats of scratch (forward only).
// NHWC input, HWIO filter, dilation 1, f32.

/**
 * Forward: out[n][p][q][o] = sum over a, b, i of x[n][p*sh + a - pt][q*sw + b - pl][i] * w[a][b][i][o].
 * Output pixels are taken 4 at a time and output channels 8 at a time (CO % 8 == 0): for each
 * tap, each pixel's input row is broadcast one channel at a time against 8 contiguous filter
 * values, with the 4x8 tile of sums held in eight SIMD registers over all taps and channels. The
 * loop over output-channel tiles is outside the loop over pixels: each tile's column block of the
 * filter (KH*KW*CI rows of 8) is first copied into `pack`, contiguous, and then stays in cache for
 * every pixel. (Read in place, its rows lie CO floats apart: at 512 channels that spans 9 MB per
 * tile, and the address translations alone slowed the kernel by half.)
 */
export function conv2dForward(
  x: usize, w: usize, out: usize, zero: usize, pack: usize,
  N: i32, H: i32, W: i32, CI: i32, OH: i32, OW: i32, CO: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const M = N * OH * OW;
  const nCo = CO >> 3;
  const wRow = <usize>CO << 2; // bytes between filter rows (consecutive input channels)
  const xRow = <usize>CI << 2;
  const K = KH * KW * CI;
  for (let t = 0; t < nCo; t++) {
    let src = w + (<usize>t << 5);
    for (let k = 0; k < K; k++) {
      const d = pack + (<usize>k << 5);
      v128.store(d, v128.load(src));
      v128.store(d, v128.load(src, 16), 16);
      src += wRow;
    }
    for (let r0 = 0; r0 < M; r0 += 4) {
      // Pixels r0 .. r0+3 as (n, p, q); rows past M read zeros and are not stored.
      const n0 = r0 / (OH * OW), p0 = (r0 / OW) % OH, q0 = r0 % OW;
      const n1 = (r0 + 1) / (OH * OW), p1 = ((r0 + 1) / OW) % OH, q1 = (r0 + 1) % OW;
      const n2 = (r0 + 2) / (OH * OW), p2 = ((r0 + 2) / OW) % OH, q2 = (r0 + 2) % OW;
      const n3 = (r0 + 3) / (OH * OW), p3 = ((r0 + 3) / OW) % OH, q3 = (r0 + 3) % OW;
      let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
      let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
      let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
      let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
      for (let a = 0; a < KH; a++) {
        for (let b = 0; b < KW; b++) {
          let s0 = inputRow(x, zero, r0 < M, n0, p0 * sh + a - pt, q0 * sw + b - pl, H, W, xRow);
          let s1 = inputRow(x, zero, r0 + 1 < M, n1, p1 * sh + a - pt, q1 * sw + b - pl, H, W, xRow);
          let s2 = inputRow(x, zero, r0 + 2 < M, n2, p2 * sh + a - pt, q2 * sw + b - pl, H, W, xRow);
          let s3 = inputRow(x, zero, r0 + 3 < M, n3, p3 * sh + a - pt, q3 * sw + b - pl, H, W, xRow);
          let f = pack + (<usize>((a * KW + b) * CI) << 5);
          for (let i = 0; i < CI; i++) {
            const b0 = v128.load(f);
            const b1 = v128.load(f, 16);
            const v0 = v128.load32_splat(s0);
            const v1 = v128.load32_splat(s1);
            const v2 = v128.load32_splat(s2);
            const v3 = v128.load32_splat(s3);
            c00 = f32x4.add(c00, f32x4.mul(v0, b0));
            c01 = f32x4.add(c01, f32x4.mul(v0, b1));
            c10 = f32x4.add(c10, f32x4.mul(v1, b0));
            c11 = f32x4.add(c11, f32x4.mul(v1, b1));
            c20 = f32x4.add(c20, f32x4.mul(v2, b0));
            c21 = f32x4.add(c21, f32x4.mul(v2, b1));
            c30 = f32x4.add(c30, f32x4.mul(v3, b0));
            c31 = f32x4.add(c31, f32x4.mul(v3, b1));
            s0 += 4;
            s1 += 4;
            s2 += 4;
            s3 += 4;
            f += 32;
          }
        }
      }
      let o = out + (<usize>(r0 * CO + (t << 3)) << 2);
      v128.store(o, c00);
      v128.store(o, c01, 16);
      if (r0 + 1 >= M) continue;
      o += wRow;
      v128.store(o, c10);
      v128.store(o, c11, 16);
      if (r0 + 2 >= M) continue;
      o += wRow;
      v128.store(o, c20);
      v128.store(o, c21, 16);
      if (r0 + 3 >= M) continue;
      o += wRow;
      v128.store(o, c30);
      v128.store(o, c31, 16);
    }
  }
}

/** The input row x[n][h][v] (CI floats, `rowBytes` apart), or the zero row outside the image or past the last pixel. */
// @ts-ignore: decorator
@inline
function inputRow(x: usize, zero: usize, valid: bool, n: i32, h: i32, v: i32, H: i32, W: i32, rowBytes: usize): usize {
  return valid && h >= 0 && h < H && v >= 0 && v < W ? x + <usize>((n * H + h) * W + v) * rowBytes : zero;
}

/**
 * Input gradient: dx[n][h][v][i] = sum over taps a, b and channels o of dy[n][p][q][o] * w[a][b][i][o],
 * where h + pt = p*sh + a and v + pl = q*sw + b. Both operands are contiguous along o, the sum's
 * axis, so this is a row-by-row dot product: 2 input pixels x 4 input channels (CI % 4 == 0,
 * CO % 4 == 0), each of the eight sums kept as 4 lanes over o and added across lanes at the end.
 * The pixels are visited one stride phase at a time ((h + pt) mod sh, (v + pl) mod sw), so that
 * both pixels of a pair take the same taps and no multiply lands on the zeros a strided
 * convolution's gradient would otherwise interleave.
 */
export function conv2dBackpropInput(
  dy: usize, w: usize, dx: usize, zero: usize, _pack: usize,
  N: i32, H: i32, W: i32, CI: i32, OH: i32, OW: i32, CO: i32,
  KH: i32, KW: i32, sh: i32, sw: i32, pt: i32, pl: i32,
): void {
  const nCi = CI >> 2;
  const dyRow = <usize>CO << 2; // bytes of one dy row, and between filter rows (consecutive i)
  const dxRow = <usize>CI << 2;
  for (let ry = 0; ry < sh; ry++) {
    // Input rows h = ry + sh*k of this phase, and the taps a with (h + pt - a) divisible by sh.
    const rowsH = ry < H ? (H - ry + sh - 1) / sh : 0;
    const a0 = (ry + pt) % sh;
    for (let rx = 0; rx < sw; rx++) {
      const colsW = rx < W ? (W - rx + sw - 1) / sw : 0;
      const b0 = (rx + pl) % sw;
      const count = N * rowsH * colsW;
      // Input-channel tiles outside the pixel pairs: one tile's filter rows (taps x 4 x CO) stay in
      // cache for every pair. (Pairs outside streamed the whole filter from memory once per pair:
      // 450 MB per call for ResNet's 512->512 at 24 images, and two threads contended for it.)
      for (let u = 0; u < nCi; u++) {
        for (let j = 0; j < count; j += 2) {
          // Pixel pair j, j+1 of the phase; a missing second pixel reads zeros and is not stored.
          const has1 = j + 1 < count;
          const nA = j / (rowsH * colsW), hA = ry + sh * ((j / colsW) % rowsH), vA = rx + sw * (j % colsW);
          const k1 = has1 ? j + 1 : j;
          const nB = k1 / (rowsH * colsW), hB = ry + sh * ((k1 / colsW) % rowsH), vB = rx + sw * (k1 % colsW);
          const outA = dx + <usize>((nA * H + hA) * W + vA) * dxRow;
          const outB = dx + <usize>((nB * H + hB) * W + vB) * dxRow;
          let c00 = f32x4.splat(0), c01 = f32x4.splat(0), c02 = f32x4.splat(0), c03 = f32x4.splat(0);
          let c10 = f32x4.splat(0), c11 = f32x4.splat(0), c12 = f32x4.splat(0), c13 = f32x4.splat(0);
          for (let a = a0; a < KH; a += sh) {
            const pA = (hA + pt - a) / sh, pB = (hB + pt - a) / sh;
            for (let b = b0; b < KW; b += sw) {
              const qA = (vA + pl - b) / sw, qB = (vB + pl - b) / sw;
              // (h + pt - a) is a multiple of sh here, so the divisions are exact where it is >= 0.
              let d0 = hA + pt - a >= 0 && pA < OH && vA + pl - b >= 0 && qA < OW
                ? dy + <usize>((nA * OH + pA) * OW + qA) * dyRow : zero;
              let d1 = has1 && hB + pt - a >= 0 && pB < OH && vB + pl - b >= 0 && qB < OW
                ? dy + <usize>((nB * OH + pB) * OW + qB) * dyRow : zero;
              if (d0 == zero && d1 == zero) continue;
              let f = w + (<usize>(((a * KW + b) * CI + (u << 2)) * CO) << 2);
              for (let o = 0; o < CO; o += 4) {
                const y0 = v128.load(d0);
                const y1 = v128.load(d1);
                let g = v128.load(f);
                c00 = f32x4.add(c00, f32x4.mul(y0, g));
                c10 = f32x4.add(c10, f32x4.mul(y1, g));
                g = v128.load(f + dyRow); // w[a][b][i+1][o..o+4]
                c01 = f32x4.add(c01, f32x4.mul(y0, g));
                c11 = f32x4.add(c11, f32x4.mul(y1, g));
                g = v128.load(f + dyRow * 2);
                c02 = f32x4.add(c02, f32x4.mul(y0, g));
                c12 = f32x4.add(c12, f32x4.mul(y1, g));
                g = v128.load(f + dyRow * 3);
                c03 = f32x4.add(c03, f32x4.mul(y0, g));
                c13 = f32x4.add(c13, f32x4.mul(y1, g));
                d0 += 16;
                d1 += 16;
                f += 16;
              }
            }
          }
          v128.store(outA + (<usize>u << 4), lanesSummed(c00, c01, c02, c03));
          if (has1) v128.store(outB + (<usize>u << 4), lanesSummed(c10, c11, c12, c13));
        }
      }
    }
  }
}

/** [sum of a's lanes, sum of b's, sum of c's, sum of d's]. */
// @ts-ignore: decorator
@inline
function lanesSummed(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = f32x4.add(v128.shuffle<f32>(a, b, 0, 4, 1, 5), v128.shuffle<f32>(a, b, 2, 6, 3, 7)); // a0+a2 b0+b2 a1+a3 b1+b3
  const cd = f32x4.add(v128.shuffle<f32>(c, d, 0, 4, 1, 5), v128.shuffle<f32>(c, d, 2, 6, 3, 7));
  return f32x4.add(v128.shuffle<f32>(ab, cd, 0, 1, 4, 5), v128.shuffle<f32>(ab, cd, 2, 3, 6, 7));
}
