import * as tf from '@tensorflow/tfjs-core';
import {
  createPluginContainer,
  NetworkToken,
  Rng,
  RunContextToken,
  type Algorithm,
  type Minibatch,
  type PluginContext,
  type RunContext,
} from '@qtdog/core';
import { selectBackend } from '@qtdog/engine';
import { MnistCnn } from '@qtdog/networks';
import { LsqOptions, LsqQuantizer } from '@qtdog/quantizers';
import { beforeAll, describe, expect, it } from 'vitest';
import { algorithmsModule } from '../index.js';

// DomainBed's contract test, driven by the registry: every algorithm this package registers is
// built through its plugin and must survive a few updates on small random data, with and without
// QT-DoG's quantizer switching on mid-run.
const { registry } = createPluginContainer([algorithmsModule]);
const algorithms = registry.list('algorithm');

const INPUT: [number, number, number] = [8, 8, 1];
const CLASSES = 3;
const DOMAINS = 3;
const BATCH = 4;
const STEPS = 4;

/** Options that make a few steps exercise more code: annealing switches (and Adam resets) at update 2. */
const OVERRIDES: Record<string, Record<string, unknown>> = {
  IRM: { irmPenaltyAnnealIters: 2 },
  VREx: { vrexPenaltyAnnealIters: 2 },
  DANN: { gradPenalty: 0.1 },
};

// wasm with the engine's convolution gradients: the cpu backend takes about 10 s per MNIST_CNN step.
beforeAll(async () => {
  await selectBackend('wasm');
});

function randomMinibatches(seed: number): Minibatch[] {
  const rng = new Rng(seed);
  return Array.from({ length: DOMAINS }, (_, env) => ({
    x: tf.tensor4d(Float32Array.from({ length: BATCH * 64 }, () => rng.next() + 0.2 * env), [BATCH, ...INPUT]),
    y: tf.tensor1d(Int32Array.from({ length: BATCH }, () => rng.int(CLASSES)), 'int32'),
    env,
  }));
}

async function build(name: string, network: MnistCnn): Promise<Algorithm> {
  const { container } = createPluginContainer([]);
  const run: RunContext = {
    inputShape: INPUT,
    numClasses: CLASSES,
    environments: ['a', 'b', 'c', 'test'],
    testEnvs: [3],
    numTrainEnvs: DOMAINS,
    trialSeed: 0,
    outDir: '/nonexistent',
  };
  container.bind(NetworkToken).toConstantValue(network);
  container.bind(RunContextToken).toConstantValue(run);
  const def = registry.get('algorithm', name);
  const ctx: PluginContext = { container, seed: 1, baseDir: '.', log: () => {} };
  return (await def.create(def.options.parse({ batchSize: BATCH, ...OVERRIDES[name] }), ctx)) as Algorithm;
}

describe('every registered algorithm', () => {
  it('includes the DomainBed zoo', () => {
    expect(algorithms.map((a) => a.name).sort()).toEqual(['CORAL', 'DANN', 'ERM', 'Fish', 'GroupDRO', 'IRM', 'MMD', 'Mixup', 'SAM', 'VREx']);
    expect(registry.names('hook')).toEqual(['SWAD']);
  });

  describe.each(algorithms.map((a) => a.name))('%s', (name) => {
    it.each([false, true])('updates with finite losses, predicts [n, classes] and leaks no tensors (LSQ: %s)', async (quantized) => {
      const network = new MnistCnn(INPUT, CLASSES, 3);
      const quantizer = quantized ? new LsqQuantizer(network, LsqOptions.parse({ bits: 7, perChannel: true, startStep: 1 })) : undefined;
      const algorithm = await build(name, network);
      const minibatches = randomMinibatches(5);
      const counts: number[] = [];
      let stepSizes: Record<string, number[]> = {};
      for (let step = 0; step < STEPS; step++) {
        quantizer?.onStep(step, network);
        if (step === 1 && quantizer) {
          stepSizes = Object.fromEntries(network.params.all().filter((p) => p.role === 'quantizer').map((p) => [p.name, Array.from(p.variable.dataSync())]));
        }
        const losses = await algorithm.update(minibatches, step);
        expect(Object.keys(losses)).toContain('loss');
        for (const [k, v] of Object.entries(losses)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
        counts.push(tf.memory().numTensors);
      }
      // Flat once every optimizer holds its state: from update 2 (the quantizer switches on before
      // it); for DANN with LSQ from update 3, its generator's first step after the switch.
      const from = name === 'DANN' && quantized ? 2 : 1;
      expect(new Set(counts.slice(from)).size, `live tensors after each update: ${counts.join(', ')}`).toBe(1);
      const logits = tf.tidy(() => algorithm.predict(minibatches[0]!.x));
      expect(logits.shape).toEqual([BATCH, CLASSES]);
      logits.dispose();
      if (quantizer) {
        // The quantizer's step sizes are trained by every algorithm, not frozen after the switch.
        expect(Object.keys(stepSizes)).toHaveLength(4);
        const moved = Object.entries(stepSizes).filter(([k, v]) => network.params.get(k).variable.dataSync().some((x, i) => x !== v[i]));
        expect(moved.map(([k]) => k)).toEqual(Object.keys(stepSizes));
      }
      for (const m of minibatches) tf.dispose([m.x, m.y]);
      algorithm.dispose?.();
      quantizer?.dispose?.();
      network.dispose();
    });

    // A dataset of two environments leaves one training domain: penalties over pairs of domains are
    // then zero (as in DomainBed), not a crash.
    it('updates with a single training domain', async () => {
      const network = new MnistCnn(INPUT, CLASSES, 3);
      const algorithm = await build(name, network);
      const [one] = randomMinibatches(6);
      for (let step = 0; step < 2; step++) {
        const losses = await algorithm.update([one!], step);
        for (const [k, v] of Object.entries(losses)) expect(Number.isFinite(v), `${k} = ${v}`).toBe(true);
      }
      tf.dispose([one!.x, one!.y]);
      algorithm.dispose?.();
      network.dispose();
    });
  });
});
