// The arithmetic peak of wasm SIMD on this machine, one thread: a register-only loop of f32x4
// multiplies and adds (no memory traffic), which bounds every wasm convolution kernel, XNNPACK's and
// ours. Run with node's --experimental-wasm-relaxed-simd flag it also times f32x4.relaxed_madd,
// the fused multiply-add that Node 20 offers only behind that flag (no user runs it).
//
//   node tools/bench/simd-peak.mjs
//   node --experimental-wasm-relaxed-simd tools/bench/simd-peak.mjs
//
// The kernels are compiled here by AssemblyScript (a root devDependency); nothing is committed.
import asc from 'assemblyscript/asc';

const ACC = 12; // independent accumulators: enough to hide the add and multiply latencies
const body = (op) =>
  Array.from({ length: ACC }, (_, i) => `    a${i} = ${op(`a${i}`)};`).join('\n');
const source = (relaxed) => `
export function run(n: i32, s: f32): f32 {
  const m = f32x4.splat(s);
  const c = f32x4.splat(1 - s);
${Array.from({ length: ACC }, (_, i) => `  let a${i} = f32x4.splat(<f32>${i + 1});`).join('\n')}
  for (let k = 0; k < n; k++) {
${relaxed ? body((a) => `f32x4.relaxed_madd(${a}, m, c)`) : body((a) => `f32x4.add(f32x4.mul(${a}, m), c)`)}
  }
  let t = f32x4.add(a0, a1);
${Array.from({ length: ACC - 2 }, (_, i) => `  t = f32x4.add(t, a${i + 2});`).join('\n')}
  return f32x4.extract_lane(t, 0);
}`;

async function compile(relaxed) {
  const { error, binary, stderr } = await asc.compileString(
    { 'peak.ts': source(relaxed) },
    { optimizeLevel: 3, runtime: 'stub', enable: relaxed ? ['simd', 'relaxed-simd'] : ['simd'] },
  );
  if (error) throw new Error(`${error.message}\n${stderr}`);
  return (await WebAssembly.instantiate(binary)).instance.exports;
}

function time(run) {
  const n = 20_000_000;
  run(1000, 0.5); // warm-up
  const best = [];
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    run(n, 0.999);
    best.push(performance.now() - t0);
  }
  const ms = Math.min(...best);
  return (n * ACC * 8) / ms / 1e6; // GFLOP/s: 4 lanes x (multiply + add) per accumulator
}

const plain = await compile(false);
console.log(`wasm SIMD f32x4 mul + add, one thread: ${time(plain.run).toFixed(1)} GFLOP/s`);
let relaxed = null;
try {
  relaxed = await compile(true);
} catch (e) {
  console.log(`relaxed SIMD: not available here (${e.message.split('\n')[0]}); run node with --experimental-wasm-relaxed-simd`);
}
if (relaxed) console.log(`wasm relaxed SIMD f32x4.relaxed_madd, one thread: ${time(relaxed.run).toFixed(1)} GFLOP/s`);
