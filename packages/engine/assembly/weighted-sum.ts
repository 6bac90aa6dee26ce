// AssemblyScript source of the weighted sum of two tensors in wasm SIMD, for the wasm backend's
// QtdogWeightedSum kernel (src/weighted-sum.ts): data-parallel training sums each parameter's
// gradients from the threads this way, 11 M floats a step for ResNet-18, where a scalar
// JavaScript loop took about 20 ms. Compiled by `node tools/kernels/build-wasm.mjs` into
// src/generated/weighted-sum-wasm.ts; it imports the backend's memory and has no static data.

/** out = wa * a + wb * b over n floats (f32: each product rounded, then the sum). */
export function weightedSum(a: usize, b: usize, out: usize, n: i32, wa: f32, wb: f32): void {
  const va = f32x4.splat(wa);
  const vb = f32x4.splat(wb);
  let i = 0;
  for (; i + 8 <= n; i += 8) {
    const o = <usize>i << 2;
    v128.store(out + o, f32x4.add(f32x4.mul(v128.load(a + o), va), f32x4.mul(v128.load(b + o), vb)));
    v128.store(out + o + 16, f32x4.add(f32x4.mul(v128.load(a + o + 16), va), f32x4.mul(v128.load(b + o + 16), vb)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    store<f32>(out + o, load<f32>(a + o) * wa + load<f32>(b + o) * wb);
  }
}
