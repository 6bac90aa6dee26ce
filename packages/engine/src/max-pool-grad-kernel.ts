// A wasm MaxPoolGrad kernel in one pass over the input, for float32 NHWC pools without dilation.
//
// tfjs-backend-wasm's MaxPoolGrad took 105 ms per ResNet-18 step for its one max pool (3x3/2, pad
// 1, 48x32x32x64 input): 4% of the step, against 2 to 3 ms for the forward pool. This one visits
// each output pixel's window once: for each channel it scans the window's in-image pixels (each a
// contiguous run of channels in NHWC) keeping the running maximum in locals, and adds dy to the
// winner. Ties go to the first maximum in row-major window order, as the cpu backend's. Channels in
// multiples of 4 run the same scan in wasm SIMD; anything else (dilated pools) goes to the
// backend's own kernel.
import '@tensorflow/tfjs-backend-wasm'; // its kernels must be registered before ours replace one
import { backend_util, MaxPoolGrad, type KernelConfig, type KernelFunc, type MaxPoolGradAttrs, type TensorInfo } from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alloc, heap, replaceKernel } from './wasm-kernel-utils';
import { BackendMemoryModule, heapOffset } from './backend-memory-module';
import { MAX_POOL_GRAD_WASM } from './generated/max-pool-grad-wasm';

let backendMaxPoolGrad: KernelConfig | undefined;

interface MaxPoolGradSimd {
  maxPoolGrad(x: number, dy: number, dx: number, n: number, ih: number, iw: number, c: number, oh: number, ow: number,
    sh: number, sw: number, fh: number, fw: number, top: number, left: number): void;
}
const simd = new BackendMemoryModule<MaxPoolGradSimd>(MAX_POOL_GRAD_WASM);

/** Whether the wasm backend runs the SIMD gradient here (tests); it takes channels in multiples of 4. */
export function maxPoolGradSimdAvailable(backend: BackendWasm): boolean {
  return simd.on(backend) != null;
}

type Args = { inputs: { dy: TensorInfo; input: TensorInfo }; backend: BackendWasm; attrs: MaxPoolGradAttrs };

function maxPoolGradWasm(args: Args): TensorInfo {
  const { inputs, backend, attrs } = args;
  const { dy, input } = inputs;
  const info = backend_util.computePool2DInfo(
    input.shape as [number, number, number, number],
    attrs.filterSize,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
  );
  if (input.dtype !== 'float32' || info.dilationHeight !== 1 || info.dilationWidth !== 1) {
    if (backendMaxPoolGrad == null) throw new Error('@qtdog/engine: no fallback MaxPoolGrad kernel');
    return backendMaxPoolGrad.kernelFunc(args as never) as TensorInfo;
  }
  const { batchSize: n, inHeight: ih, inWidth: iw, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const out = alloc(backend, input.shape);
  const k = c % 4 === 0 ? simd.on(backend) : null;
  if (k) {
    // The same scan in wasm SIMD, four channels at a time (assembly/max-pool-grad.ts): ResNet-18's
    // stem pool took 15 ms a step at 24 images in this JavaScript.
    const at = (t: TensorInfo) => heapOffset(backend, t);
    k.maxPoolGrad(at(input), at(dy), at(out), n, ih, iw, c, oh, ow, sh, sw, fh, fw, top, left);
    return out;
  }
  // Views after the allocation: it may grow the heap.
  const x = heap(backend, input);
  const g = heap(backend, dy);
  const dx = heap(backend, out);
  dx.fill(0);
  // The window's in-image pixels, as offsets of their first channel.
  const offs = new Int32Array(fh * fw);
  for (let b = 0; b < n; b++) {
    const xb = b * ih * iw * c;
    for (let r = 0; r < oh; r++) {
      const r0 = Math.max(0, r * sh - top);
      const r1 = Math.min(ih, r * sh - top + fh);
      for (let q = 0; q < ow; q++) {
        const q0 = Math.max(0, q * sw - left);
        const q1 = Math.min(iw, q * sw - left + fw);
        // Padding never wins; a window that is all padding (only with padding >= the filter
        // size) passes nothing back.
        let count = 0;
        for (let i = r0; i < r1; i++) for (let j = q0; j < q1; j++) offs[count++] = xb + (i * iw + j) * c;
        if (count === 0) continue;
        const gb = ((b * oh + r) * ow + q) * c;
        // Channels outermost, the window innermost: the running maximum stays in locals.
        for (let k = 0; k < c; k++) {
          let at = offs[0]! + k;
          let best = x[at]!;
          for (let t = 1; t < count; t++) {
            const o = offs[t]! + k;
            const v = x[o]!;
            if (v > best) {
              best = v;
              at = o;
            }
          }
          dx[at] += g[gb + k]!;
        }
      }
    }
  }
  return out;
}

const config: KernelConfig = {
  kernelName: MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: maxPoolGradWasm as unknown as KernelFunc,
  // The engine sets up only registered kernels: set up the replaced one for the fallback.
  setupFunc: (backend) => backendMaxPoolGrad?.setupFunc?.(backend),
};

/** Replaces the wasm MaxPoolGrad kernel. Idempotent. */
export function registerMaxPoolGradKernel(): void {
  backendMaxPoolGrad = replaceKernel(config) ?? backendMaxPoolGrad;
}
