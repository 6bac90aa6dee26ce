// A convolution's geometry in the order native/conv-geometry.h reads it, or why oneDNN should
// not take it (the wasm kernel does instead).
import { backend_util } from '@tensorflow/tfjs-core';

export type ConvInfo = backend_util.Conv2DInfo;

/** Why this convolution stays on wasm, or undefined when oneDNN takes it. */
export function unsupportedConv(info: ConvInfo, dtypes: string[]): string | undefined {
  if (info.dataFormat !== 'channelsLast') return `layout ${info.dataFormat}`;
  if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return `dilation ${info.dilationHeight}x${info.dilationWidth}`;
  if (dtypes.some((d) => d !== 'float32')) return `dtype ${dtypes.join('/')}`;
  const { top, bottom, left, right } = info.padInfo;
  if (Math.min(top, bottom, left, right) < 0) return 'negative padding';
  if (info.batchSize * info.inHeight * info.inWidth * info.inChannels === 0 || info.outHeight * info.outWidth === 0) return 'empty tensor';
  return undefined;
}

export function convGeometry(info: ConvInfo): Int32Array {
  const { top, bottom, left, right } = info.padInfo;
  return Int32Array.from([
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outChannels, info.filterHeight, info.filterWidth,
    info.outHeight, info.outWidth,
    info.strideHeight, info.strideWidth,
    top, bottom, left, right,
  ]);
}

export function conv2DInfo(
  inShape: number[],
  filterShape: number[],
  attrs: { strides: number | [number, number]; pad: unknown; dataFormat: string; dimRoundingMode?: unknown; dilations?: number | [number, number] },
): ConvInfo {
  return backend_util.computeConv2DInfo(
    inShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides,
    attrs.dilations ?? 1,
    attrs.pad as 'same',
    attrs.dimRoundingMode as 'floor' | undefined,
    false,
    backend_util.convertConv2DDataFormat(attrs.dataFormat as 'NHWC'),
  );
}
