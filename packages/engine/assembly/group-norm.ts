// AssemblyScript source of GroupNorm's heavy passes in wasm SIMD, for the wasm backend's fused
// GroupNorm kernels (src/group-norm-kernels.ts). Compiled by `node tools/kernels/build-wasm.mjs`
// into src/generated/group-norm-wasm.ts; a test checks the committed binary against this source.
//
// GroupNorm is memory-bound: each pass streams an activation once. This module imports the wasm
// backend's own memory (build option importMemory), so it reads and writes tensors where they lie:
// no copies in or out, which for a pass this cheap would cost as much as the pass itself. It must
// therefore have no static data (a data segment would be written over the backend's memory at
// instantiation); a test checks that too.
//
// Every tensor is NHWC float32 with C % 4 == 0, one sample at a time laid out as HW rows of C. The
// per-(sample, group) scalar arithmetic stays in JavaScript: these functions do the passes over
// the activation. Sums run in f32x4 over blocks of B rows and are flushed into f64 per block.
// B = 32: at C = 128, one block of one input is 16 KB, so it is still in L1 when the next channel
// vector reads it.

const B: i32 = 32;

/**
 * Per sample b and channel k, with K[b][k] = x's first row of sample b (a shift close to the mean,
 * so that f32 sums do not cancel: with a mean of 5 and a spread of 0.1, sums of x*x lose the
 * variance to rounding):
 *   mode 0 (a = x): sum[b][k] = sum over rows of (x - K), sq[b][k] = sum of (x - K)^2;
 *   mode 1 (a = dy): sum[b][k] = sum of dy, sq[b][k] = sum of dy * (x - K).
 * sum and sq are f64 [N][C].
 */
export function channelSums(a: usize, x: usize, sum: usize, sq: usize, N: i32, HW: i32, C: i32, mode: i32): void {
  const rowBytes = <usize>C << 2;
  const nVec = C >> 2;
  memory.fill(sum, 0, <usize>(N * C) << 3);
  memory.fill(sq, 0, <usize>(N * C) << 3);
  for (let b = 0; b < N; b++) {
    const sample = <usize>(b * HW) * rowBytes;
    const sumB = sum + (<usize>(b * C) << 3);
    const sqB = sq + (<usize>(b * C) << 3);
    for (let p0 = 0; p0 < HW; p0 += B) {
      const rows = min(B, HW - p0);
      const block = sample + <usize>p0 * rowBytes;
      for (let v = 0; v < nVec; v++) {
        let s = f32x4.splat(0);
        let q = f32x4.splat(0);
        let pa = a + block + (<usize>v << 4);
        const shift = v128.load(x + sample + (<usize>v << 4));
        if (mode == 0) {
          for (let r = 0; r < rows; r++) {
            const d = f32x4.sub(v128.load(pa), shift);
            s = f32x4.add(s, d);
            q = f32x4.add(q, f32x4.mul(d, d));
            pa += rowBytes;
          }
        } else {
          let px = x + block + (<usize>v << 4);
          for (let r = 0; r < rows; r++) {
            const va = v128.load(pa);
            s = f32x4.add(s, va);
            q = f32x4.add(q, f32x4.mul(va, f32x4.sub(v128.load(px), shift)));
            pa += rowBytes;
            px += rowBytes;
          }
        }
        flush(sumB + (<usize>v << 5), s);
        flush(sqB + (<usize>v << 5), q);
      }
    }
  }
}

/** Adds the four lanes of v to the f64 quadruple at p. */
// @ts-ignore: decorator
@inline
function flush(p: usize, v: v128): void {
  v128.store(p, f64x2.add(v128.load(p), f64x2.promote_low_f32x4(v)));
  v128.store(p, f64x2.add(v128.load(p, 16), f64x2.promote_low_f32x4(v128.shuffle<u32>(v, v, 2, 3, 0, 1))), 16);
}

/**
 * y = a * p[b][k] + shift[b][k] (mode 0: GroupNorm forward, a = x), or
 * y = a * p[b][k] + x * q[b][k] + shift[b][k] (mode 1: backward, a = dy),
 * per sample b and channel k; p, q, shift are f32 [N][C].
 */
export function affine(a: usize, x: usize, y: usize, p: usize, q: usize, shift: usize, N: i32, HW: i32, C: i32, mode: i32): void {
  const rowBytes = <usize>C << 2;
  const nVec = C >> 2;
  for (let b = 0; b < N; b++) {
    const sample = <usize>(b * HW) * rowBytes;
    const pb = p + <usize>b * rowBytes;
    const qb = q + <usize>b * rowBytes;
    const sb = shift + <usize>b * rowBytes;
    for (let r = 0; r < HW; r++) {
      const row = sample + <usize>r * rowBytes;
      if (mode == 0) {
        for (let v = 0; v < nVec; v++) {
          const o = <usize>v << 4;
          v128.store(y + row + o, f32x4.add(f32x4.mul(v128.load(a + row + o), v128.load(pb + o)), v128.load(sb + o)));
        }
      } else {
        for (let v = 0; v < nVec; v++) {
          const o = <usize>v << 4;
          const t = f32x4.add(f32x4.mul(v128.load(a + row + o), v128.load(pb + o)), f32x4.mul(v128.load(x + row + o), v128.load(qb + o)));
          v128.store(y + row + o, f32x4.add(t, v128.load(sb + o)));
        }
      }
    }
  }
}
