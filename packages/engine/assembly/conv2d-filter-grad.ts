// AssemblyScript source of the wasm SIMD filter-gradient kernel (Conv2DBackpropFilter).
// Compiled by `node tools/kernels/build-wasm.mjs` into src/generated/conv2d-filter-grad-wasm.ts;
// a test checks that the committed binary is what this source compiles to.
//
// dW[kh][kw][ci][co] = sum over rows r = (n, oh, ow) of x[n][oh*s+kh-pt][ow*s+kw-pl][ci] * dy[r][co]
// (NHWC input, HWIO filter, dilation 1, f32). For each filter tap this is A^T B with A the shifted
// input rows [M, ci] and B = dy [M, co], M = N*OH*OW: a long reduction into a small output, which
// XNNPACK (built for the forward's short reduction and large output) runs at about 2/3 of its
// forward speed. Here the rows are taken in blocks of R; each block of dy is packed once into
// co-tiles of 8 and, per tap, the shifted input rows into ci-tiles of 4 (zeros where the tap falls in
// the padding), so the inner loop streams two contiguous arrays and keeps a 4x8 tile of dW in eight
// SIMD registers over the whole block.
//
// Requires ci % 4 == 0 and co % 8 == 0 (the caller falls back otherwise). All pointers are byte
// offsets into this module's own memory, which the caller fills and grows.

const R: i32 = 256;

/** First byte the caller may use (after this module's static data). */
export function heapBase(): usize {
  return (__heap_base + 63) & ~63;
}

/** Rows per block: the caller sizes the pack buffers as R*ci and R*co floats. */
export function blockRows(): i32 {
  return R;
}

export function conv2dFilterGrad(
  x: usize, dy: usize, out: usize, packA: usize, packB: usize,
  N: i32, H: i32, W: i32, CI: i32, OH: i32, OW: i32, CO: i32,
  KH: i32, KW: i32, strideH: i32, strideW: i32, pt: i32, pl: i32,
): void {
  memory.fill(out, 0, <usize>(KH * KW * CI * CO) << 2);
  const M = N * OH * OW;
  const nCo = CO >> 3;
  const nCi = CI >> 2;
  const rowBytes = <usize>CO << 2;
  for (let r0 = 0; r0 < M; r0 += R) {
    const rb = min(R, M - r0);
    packDy(dy, packB, r0, rb, CO, nCo);
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        packShiftedX(x, packA, r0, rb, H, W, CI, nCi, OH, OW, kh - pt, kw - pl, strideH, strideW);
        const tap = out + (<usize>((kh * KW + kw) * CI * CO) << 2);
        for (let u = 0; u < nCi; u++) {
          const a0 = packA + (<usize>(u * R) << 4);
          for (let t = 0; t < nCo; t++) {
            tile4x8(a0, packB + (<usize>(t * R) << 5), rb, tap + (<usize>((u << 2) * CO + (t << 3)) << 2), rowBytes);
          }
        }
      }
    }
  }
}

/** packB[t][r][0..8] = dy[r0 + r][8t .. 8t+8]. */
function packDy(dy: usize, packB: usize, r0: i32, rb: i32, CO: i32, nCo: i32): void {
  for (let r = 0; r < rb; r++) {
    const src = dy + (<usize>((r0 + r) * CO) << 2);
    for (let t = 0; t < nCo; t++) {
      const d = packB + (<usize>(t * R + r) << 5);
      const s = src + (<usize>t << 5);
      v128.store(d, v128.load(s));
      v128.store(d, v128.load(s, 16), 16);
    }
  }
}

/** packA[u][r][0..4] = x[n][oh*sh + dh][ow*sw + dw][4u .. 4u+4] for row r0 + r = (n, oh, ow); zeros outside. */
function packShiftedX(
  x: usize, packA: usize, r0: i32, rb: i32, H: i32, W: i32, CI: i32, nCi: i32,
  OH: i32, OW: i32, dh: i32, dw: i32, sh: i32, sw: i32,
): void {
  const plane = OH * OW;
  let n = r0 / plane;
  const rem = r0 - n * plane;
  let oh = rem / OW;
  let ow = rem - oh * OW;
  for (let r = 0; r < rb; r++) {
    const ih = oh * sh + dh;
    const iw = ow * sw + dw;
    const d = packA + (<usize>r << 4);
    if (ih >= 0 && ih < H && iw >= 0 && iw < W) {
      const src = x + (<usize>(((n * H + ih) * W + iw) * CI) << 2);
      for (let u = 0; u < nCi; u++) v128.store(d + (<usize>(u * R) << 4), v128.load(src + (<usize>u << 4)));
    } else {
      for (let u = 0; u < nCi; u++) v128.store(d + (<usize>(u * R) << 4), f32x4.splat(0));
    }
    if (++ow == OW) {
      ow = 0;
      if (++oh == OH) {
        oh = 0;
        n++;
      }
    }
  }
}

/** o[i][0..8] += sum over r < rb of a[r][i] * b[r][0..8], i < 4 (o rows rowBytes apart). */
// @ts-ignore: decorator
@inline
function tile4x8(a: usize, b: usize, rb: i32, o: usize, rowBytes: usize): void {
  let c00 = f32x4.splat(0), c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0), c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0), c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0), c31 = f32x4.splat(0);
  for (let r = 0; r < rb; r++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const s0 = v128.load32_splat(a);
    const s1 = v128.load32_splat(a, 4);
    const s2 = v128.load32_splat(a, 8);
    const s3 = v128.load32_splat(a, 12);
    c00 = f32x4.add(c00, f32x4.mul(s0, b0));
    c01 = f32x4.add(c01, f32x4.mul(s0, b1));
    c10 = f32x4.add(c10, f32x4.mul(s1, b0));
    c11 = f32x4.add(c11, f32x4.mul(s1, b1));
    c20 = f32x4.add(c20, f32x4.mul(s2, b0));
    c21 = f32x4.add(c21, f32x4.mul(s2, b1));
    c30 = f32x4.add(c30, f32x4.mul(s3, b0));
    c31 = f32x4.add(c31, f32x4.mul(s3, b1));
    a += 16;
    b += 32;
  }
  v128.store(o, f32x4.add(v128.load(o), c00));
  v128.store(o, f32x4.add(v128.load(o, 16), c01), 16);
  o += rowBytes;
  v128.store(o, f32x4.add(v128.load(o), c10));
  v128.store(o, f32x4.add(v128.load(o, 16), c11), 16);
  o += rowBytes;
  v128.store(o, f32x4.add(v128.load(o), c20));
  v128.store(o, f32x4.add(v128.load(o, 16), c21), 16);
  o += rowBytes;
  v128.store(o, f32x4.add(v128.load(o), c30));
  v128.store(o, f32x4.add(v128.load(o, 16), c31), 16);
}
