// LSQ activation quantization (off by default): unsigned after ReLU, step sizes initialised from the
// first training batch, trained with the weights, kept by checkpoints, refused where it cannot work.
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { loadWeights, readResults } from '@qtdog/core';
import { MnistCnn } from '@qtdog/networks';
import { LsqOptions, LsqQuantizer, unsignedRange } from '@qtdog/quantizers';
import { join } from 'node:path';
import { fixtureRun } from './fixture-runs';

const options = (extra: Record<string, unknown>) => LsqOptions.parse({ startStep: 0, ...extra });

describe('LSQ activation quantization', () => {
  it('puts ReLU outputs on an unsigned grid with a step size from the first training batch', async () => {
    await tf.setBackend('cpu');
    const net = new MnistCnn([28, 28, 1], 10, 3);
    const q = new LsqQuantizer(net, options({ quantizeActivations: true, activationBits: 4 }));
    q.onStep(0, net);
    const site = net.activationSites[1]!;
    const s = q.activations!.stepSize(site.name)!;
    expect((s.dataSync() as Float32Array)[0]).toBe(0);
    // Before any training batch, evaluation passes activations through.
    const x = tf.relu(tf.randomNormal([2, 6, 6, 8], 0, 1, 'float32', 5));
    const evalOut = net.activationTransform!(site, x, false);
    expect(Array.from(evalOut.dataSync())).toEqual(Array.from(x.dataSync()));
    const out = net.activationTransform!(site, x, true);
    const { qp } = unsignedRange(4);
    const expected = (2 * (tf.mean(tf.abs(x)).dataSync()[0] as number)) / Math.sqrt(qp);
    const step = (s.dataSync() as Float32Array)[0]!;
    expect(step).toBeCloseTo(expected, 6);
    const codes = Array.from(out.dataSync()).map((v) => v / step);
    for (const c of codes) {
      expect(Math.abs(c - Math.round(c))).toBeLessThan(1e-3);
      expect(c).toBeGreaterThanOrEqual(0);
      expect(Math.round(c)).toBeLessThanOrEqual(qp);
    }
    expect(new Set(codes.map(Math.round)).size).toBeGreaterThan(3);
    // The step size gets a gradient through the whole network.
    const input = tf.randomNormal([4, 28, 28, 1], 0, 1, 'float32', 7) as tf.Tensor4D;
    const { grads } = tf.variableGrads(() => tf.mean(net.predict(input, true)) as tf.Scalar, [s]);
    const g = (Object.values(grads)[0]!.dataSync() as Float32Array)[0]!;
    expect(Number.isFinite(g)).toBe(true);
    expect(g).not.toBe(0);
    tf.dispose([x, evalOut, out, input, ...Object.values(grads)]);
    q.dispose?.();
    net.dispose();
  });

  it('trains the activation step sizes in a run and keeps them in checkpoints', async () => {
    // Two data-parallel workers: the step sizes reach the workers with the weights.
    const r = await fixtureRun({ quantizer: { type: 'LSQ', bits: 7, startStep: 2, quantizeActivations: true }, steps: 8, checkpointFreq: 4, workers: 2 });
    const records = readResults(join(r.outDir, 'results.jsonl'));
    for (const rec of records) expect(Number.isFinite(rec.loss as number)).toBe(true);
    const last = loadWeights(join(r.outDir, 'checkpoints/last'));
    const names = Object.keys(last.tensors).filter((n) => n.endsWith('.lsq_act_step'));
    expect(names.sort()).toEqual([1, 2, 3, 4].map((i) => `featurizer.relu${i}.lsq_act_step`));
    for (const n of names) expect((last.tensors[n]!.dataSync() as Float32Array)[0]).toBeGreaterThan(0);
    // The optimizer trained them: Adam's first moments of every activation step size are non-zero.
    const state = loadWeights(join(r.outDir, 'checkpoints/state'));
    for (const n of names) expect(Math.abs((state.tensors[`algorithm/adam/${n}/m`]!.dataSync() as Float32Array)[0]!)).toBeGreaterThan(0);
    tf.dispose([...Object.values(last.tensors), ...Object.values(state.tensors)]);
  });

  it('is refused for a network without activation sites, and export refuses an activation-quantized model', async () => {
    const net = new MnistCnn([28, 28, 1], 10, 1);
    const bare = { ...net, name: 'Bare', activationSites: [] } as unknown as MnistCnn;
    expect(() => new LsqQuantizer(bare, options({ quantizeActivations: true }))).toThrow(/network Bare declares no activation sites/);
    const { modelExportTensors } = await import('@qtdog/quantizers');
    const q = new LsqQuantizer(net, options({ quantizeActivations: true }));
    q.onStep(0, net);
    expect(() => modelExportTensors(net, q)).toThrow(/also quantizes its activations/);
    net.dispose();
  });
});
