// AssemblyScript source of the fused Adam step in wasm SIMD, for the wasm backend's Adam kernel
// (src/adam-update.ts). Compiled by `node tools/kernels/build-wasm.mjs` into
// src/generated/adam-wasm.ts; a test checks the committed binary against this source.
//
// Like group-norm.ts it imports the wasm backend's own memory and works on tensors where they lie
// (no static data). Adam is memory-bound but for its square root and division, which scalar code
// (JavaScript) runs one at a time: f32x4 does four. Every operation is f32, in the order of the
// tf-ops step, so both paths round alike.

/**
 * One Adam step over n floats: g' = g + wd p; m' = b1 m + (1 - b1) g'; v' = b2 v + (1 - b2) g'^2;
 * p' = p - (m' / (sqrt(v' / bc2) + eps)) * stepSize. Inputs p, m, v, g; outputs po, mo, vo.
 */
export function adamStep(
  p: usize, m: usize, v: usize, g: usize, po: usize, mo: usize, vo: usize, n: i32,
  b1: f32, b2: f32, stepSize: f32, bc2: f32, eps: f32, wd: f32,
): void {
  const b1c: f32 = 1 - b1;
  const b2c: f32 = 1 - b2;
  const vb1 = f32x4.splat(b1);
  const vb1c = f32x4.splat(b1c);
  const vb2 = f32x4.splat(b2);
  const vb2c = f32x4.splat(b2c);
  const vstep = f32x4.splat(stepSize);
  const vbc2 = f32x4.splat(bc2);
  const veps = f32x4.splat(eps);
  const vwd = f32x4.splat(wd);
  const decay = wd != 0;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = <usize>i << 2;
    const pv = v128.load(p + o);
    let gv = v128.load(g + o);
    if (decay) gv = f32x4.add(gv, f32x4.mul(pv, vwd));
    const mi = f32x4.add(f32x4.mul(v128.load(m + o), vb1), f32x4.mul(gv, vb1c));
    const vi = f32x4.add(f32x4.mul(v128.load(v + o), vb2), f32x4.mul(f32x4.mul(gv, gv), vb2c));
    v128.store(mo + o, mi);
    v128.store(vo + o, vi);
    const denom = f32x4.add(f32x4.sqrt(f32x4.div(vi, vbc2)), veps);
    v128.store(po + o, f32x4.sub(pv, f32x4.mul(f32x4.div(mi, denom), vstep)));
  }
  for (; i < n; i++) {
    const o = <usize>i << 2;
    const pv = load<f32>(p + o);
    let gv = load<f32>(g + o);
    if (decay) gv = gv + pv * wd;
    const mi: f32 = load<f32>(m + o) * b1 + gv * b1c;
    const vi: f32 = load<f32>(v + o) * b2 + gv * gv * b2c;
    store<f32>(mo + o, mi);
    store<f32>(vo + o, vi);
    const denom: f32 = <f32>Mathf.sqrt(vi / bc2) + eps;
    store<f32>(po + o, pv - (mi / denom) * stepSize);
  }
}
