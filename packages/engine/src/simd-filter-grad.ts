// The filter gradient of a convolution on our own wasm SIMD kernel (packages/engine/assembly/
// conv2d-filter-grad.ts), used by the wasm backend's Conv2DBackpropFilter where its shapes allow.
//
// XNNPACK runs the filter gradient, however it is laid out, at about 2/3 of its forward speed
// (docs/benchmarks.md, "Where a step's time goes"). The kernel lives in a small wasm module of its
// own, with its own memory: x and dy are copied in (a few ms against a kernel of 100+ ms) and dW is
// copied out into a tensor of the backend. Its memory grows to the largest layer seen and is kept
// for the next step, one module per thread (each data-parallel worker loads its own).
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import type { backend_util, TensorInfo } from '@tensorflow/tfjs-core';
import { CONV2D_FILTER_GRAD_WASM } from './generated/conv2d-filter-grad-wasm';
import { alloc, heap } from './wasm-kernel-utils';

// The few WebAssembly globals used here (the project compiles against ES2022 and Node types, whose
// version here declares no WebAssembly namespace).
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { exports: unknown };
};

interface FilterGradExports {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  heapBase(): number;
  blockRows(): number;
  conv2dFilterGrad(...args: number[]): void;
}

/** Which implementation computes the wasm filter gradient. */
export type FilterGradKernel = 'simd' | 'xnnpack';

// QTDOG_WASM_FILTER_GRAD=xnnpack selects the XNNPACK formulations (benchmarks compare the two;
// the variable reaches data-parallel workers too).
let chosen: FilterGradKernel =
  typeof process !== 'undefined' && process.env?.QTDOG_WASM_FILTER_GRAD === 'xnnpack' ? 'xnnpack' : 'simd';
let kernel: FilterGradExports | null | undefined; // null: this runtime cannot load it

/** Selects the filter-gradient implementation for this thread (for benchmarks and tests). */
export function setFilterGradKernel(k: FilterGradKernel): void {
  chosen = k;
}

/** The implementation the next filter gradient of a supported shape will use. */
export function filterGradKernel(): FilterGradKernel {
  return chosen === 'simd' && load() ? 'simd' : 'xnnpack';
}

function load(): FilterGradExports | null {
  if (kernel !== undefined) return kernel;
  try {
    const bytes = Uint8Array.from(atob(CONV2D_FILTER_GRAD_WASM), (c) => c.charCodeAt(0));
    // Synchronous compile: the module is about 1 KB (browsers allow up to 4 KB on the main thread).
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      env: {
        abort: () => {
          throw new Error('@qtdog/engine: the filter-gradient kernel aborted');
        },
      },
    });
    kernel = instance.exports as unknown as FilterGradExports;
  } catch {
    kernel = null; // no wasm SIMD here: the XNNPACK path serves
  }
  return kernel;
}

/**
 * Whether the SIMD kernel takes this convolution: its channel tiles are 4 inputs by 8 outputs.
 * Input channels that are not a multiple of 4 (RGB or grey images in a first layer) are padded
 * with zero channels on the way in, and their rows of dW dropped on the way out.
 */
export function simdFilterGradApplies(info: backend_util.Conv2DInfo): boolean {
  return (
    filterGradKernel() === 'simd' &&
    info.outChannels % 8 === 0 &&
    info.dilationHeight === 1 &&
    info.dilationWidth === 1
  );
}

const align = (n: number) => Math.ceil(n / 64) * 64;

/** dW [kh, kw, ci, co] of the convolution `info` (NHWC), computed by the SIMD kernel. */
export function filterGradBySimd(backend: BackendWasm, x: TensorInfo, dy: TensorInfo, info: backend_util.Conv2DInfo): TensorInfo {
  const k = load()!;
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: ci, outChannels: co } = info;
  const { filterHeight: kh, filterWidth: kw, strideHeight: sh, strideWidth: sw } = info;
  const [, OH, OW] = dy.shape as [number, number, number, number];
  const cp = Math.ceil(ci / 4) * 4; // channels as the kernel sees them
  const R = k.blockRows();
  const nx = B * H * W * cp;
  const ndy = B * OH * OW * co;
  const nout = kh * kw * cp * co;
  const offX = align(k.heapBase());
  const offDy = align(offX + nx * 4);
  const offOut = align(offDy + ndy * 4);
  const offA = align(offOut + nout * 4);
  const offB = align(offA + R * cp * 4);
  const end = offB + R * co * 4;
  const pages = Math.ceil(end / 65536) - k.memory.buffer.byteLength / 65536;
  if (pages > 0) k.memory.grow(pages);
  const xs = heap(backend, x);
  const xIn = new Float32Array(k.memory.buffer, offX, nx);
  if (cp === ci) {
    xIn.set(xs.subarray(0, nx));
  } else {
    xIn.fill(0);
    for (let p = 0, s = 0, d = 0; p < B * H * W; p++, s += ci, d += cp) {
      for (let c = 0; c < ci; c++) xIn[d + c] = xs[s + c];
    }
  }
  new Float32Array(k.memory.buffer, offDy, ndy).set(heap(backend, dy).subarray(0, ndy));
  k.conv2dFilterGrad(offX, offDy, offOut, offA, offB, B, H, W, cp, OH, OW, co, kh, kw, sh, sw, info.padInfo.top, info.padInfo.left);
  const dw = alloc(backend, [kh, kw, ci, co]);
  const out = new Float32Array(k.memory.buffer, offOut, nout);
  const dst = heap(backend, dw);
  if (cp === ci) {
    dst.set(out);
  } else {
    // [kh, kw, cp, co] -> [kh, kw, ci, co]: keep the first ci rows of each tap.
    for (let t = 0; t < kh * kw; t++) dst.set(out.subarray(t * cp * co, (t * cp + ci) * co), t * ci * co);
  }
  return dw;
}
