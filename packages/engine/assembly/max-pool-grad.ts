// AssemblyScript source of the max pool gradient in wasm SIMD, for the wasm backend's MaxPoolGrad
// kernel (src/max-pool-grad-kernel.ts), float32 NHWC without dilation, channels a multiple of 4.
// Compiled by `node tools/kernels/build-wasm.mjs` into src/generated/max-pool-grad-wasm.ts; it
// imports the backend's memory and has no static data.
//
// Four channels at a time: each output pixel's window is scanned once, a lane-wise running
// maximum and the byte offset of its winner kept in registers; then each lane adds dy to its
// winner. Strictly greater replaces, so ties go to the first maximum in row-major window order,
// as in the scalar kernel and the cpu backend; padding never wins.

/** dx = d(maxPool(x))/dx contracted with dy; x, dx: [n, ih, iw, c]; dy: [n, oh, ow, c]. */
export function maxPoolGrad(
  x: usize, dy: usize, dx: usize,
  n: i32, ih: i32, iw: i32, c: i32, oh: i32, ow: i32,
  sh: i32, sw: i32, fh: i32, fw: i32, top: i32, left: i32,
): void {
  memory.fill(dx, 0, <usize>n * ih * iw * c * 4);
  const rowBytes = <usize>iw * c * 4;
  const pixBytes = <usize>c * 4;
  for (let b = 0; b < n; b++) {
    const xb = <usize>b * ih * iw * c * 4;
    for (let r = 0; r < oh; r++) {
      const r0 = max(0, r * sh - top);
      const r1 = min(ih, r * sh - top + fh);
      for (let q = 0; q < ow; q++) {
        const q0 = max(0, q * sw - left);
        const q1 = min(iw, q * sw - left + fw);
        if (r0 >= r1 || q0 >= q1) continue;
        const gb = dy + ((<usize>(b * oh + r) * ow + q) * c << 2);
        const first = xb + <usize>r0 * rowBytes + <usize>q0 * pixBytes;
        for (let k = 0; k < c; k += 4) {
          const kb = <usize>k << 2;
          // Byte offsets of the four lanes' candidates, from x.
          const lanes = i32x4(0, 4, 8, 12);
          let best = v128.load(x + first + kb);
          let at = i32x4.add(i32x4.splat(<i32>(first + kb)), lanes);
          for (let i = r0; i < r1; i++) {
            for (let j = q0; j < q1; j++) {
              const o = xb + <usize>i * rowBytes + <usize>j * pixBytes + kb;
              const v = v128.load(x + o);
              const gt = f32x4.gt(v, best);
              best = v128.bitselect(v, best, gt);
              at = v128.bitselect(i32x4.add(i32x4.splat(<i32>o), lanes), at, gt);
            }
          }
          const g = v128.load(gb + kb);
          const a0 = dx + <usize>i32x4.extract_lane(at, 0);
          store<f32>(a0, load<f32>(a0) + f32x4.extract_lane(g, 0));
          const a1 = dx + <usize>i32x4.extract_lane(at, 1);
          store<f32>(a1, load<f32>(a1) + f32x4.extract_lane(g, 1));
          const a2 = dx + <usize>i32x4.extract_lane(at, 2);
          store<f32>(a2, load<f32>(a2) + f32x4.extract_lane(g, 2));
          const a3 = dx + <usize>i32x4.extract_lane(at, 3);
          store<f32>(a3, load<f32>(a3) + f32x4.extract_lane(g, 3));
        }
      }
    }
  }
}
