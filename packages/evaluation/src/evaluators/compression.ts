import { z } from 'zod';
import { definePlugin, type EvaluationContext, type Evaluator, type Network, type Quantizer } from '@qtdog/core';

export interface LayerCompression {
  layer: string;
  /** Bits per weight as stored: the quantizer's bits, or 32 for a float layer. */
  bits: number;
  weights: number;
  /** Float32 scales stored with the layer (LSQ step sizes: one per output channel). */
  scales: number;
  /** Packed size of the weight and its scales. */
  bytes: number;
}

export interface CompressionStats {
  /** Every network parameter as float32 (a quantizer's own parameters excluded). */
  floatBytes: number;
  /** Quantized weights packed at their bits, their float32 scales, every other parameter float32. */
  packedBytes: number;
  /** floatBytes / packedBytes. */
  ratio: number;
  /** 32 / bits of the quantized weights (QT-DoG's 4.57x at 7 bits); 1 when nothing is quantized. */
  quantizedWeightRatio: number;
  /** The quantizer's bits, or 32 when the model runs in float. */
  bits: number;
  layers: LayerCompression[];
}

/**
 * Sizes of the model as it runs. Layers count as quantized only while the quantizer is active (before
 * its start step the model is float). Packed weights take ceil(n * bits / 8) bytes per layer; the
 * scales are the quantizer's parameters of that layer (per-channel or per-tensor as it learned them),
 * or one per output channel when it keeps none in the network.
 */
export function compressionStats(network: Network, quantizer?: Pick<Quantizer, 'bits' | 'layers' | 'active'>): CompressionStats {
  const active = quantizer?.active ? quantizer : undefined;
  const quantized = new Set(active?.layers ?? []);
  const params = network.params.all();
  const model = params.filter((p) => p.role !== 'quantizer');
  const floatBytes = model.reduce((a, p) => a + 4 * p.variable.size, 0);
  const weightNames = new Set(network.layers.map((l) => l.weight));
  let packedBytes = model.filter((p) => !weightNames.has(p.name)).reduce((a, p) => a + 4 * p.variable.size, 0);
  const layers = network.layers.map((l): LayerCompression => {
    const w = network.params.get(l.weight).variable;
    if (!active || !quantized.has(l.name)) {
      packedBytes += 4 * w.size;
      return { layer: l.name, bits: 32, weights: w.size, scales: 0, bytes: 4 * w.size };
    }
    const own = params.filter((p) => p.role === 'quantizer' && p.layer === l.name).reduce((a, p) => a + p.variable.size, 0);
    const scales = own > 0 ? own : w.shape[w.shape.length - 1]!;
    const bytes = Math.ceil((w.size * active.bits) / 8) + 4 * scales;
    packedBytes += bytes;
    return { layer: l.name, bits: active.bits, weights: w.size, scales, bytes };
  });
  return {
    floatBytes,
    packedBytes,
    ratio: floatBytes / packedBytes,
    quantizedWeightRatio: active ? 32 / active.bits : 1,
    bits: active ? active.bits : 32,
    layers,
  };
}

export const CompressionOptions = z.object({
  when: z.enum(['checkpoint', 'end']).default('end'),
});

export class CompressionEvaluator implements Evaluator {
  readonly name = 'compression';
  constructor(readonly when: 'checkpoint' | 'end') {}

  async evaluate(ctx: EvaluationContext): Promise<Record<string, unknown>> {
    return { ...compressionStats(ctx.network, ctx.quantizer) };
  }
}

export const compressionPlugin = definePlugin({
  kind: 'evaluator',
  name: 'compression',
  description: 'Model size: float32 bytes, packed bytes at the quantizer bits with per-channel scales, ratio, bits per layer (QT-DoG, arXiv 2410.06020)',
  options: CompressionOptions,
  create: (options) => new CompressionEvaluator(options.when),
});
