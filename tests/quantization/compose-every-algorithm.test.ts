// The quantizer attaches to any algorithm with no extra code: every registered algorithm (and the
// SWAD hook) is run with LSQ composed through the config, and must keep training the weights AND the
// step sizes after the switch. Driven by the registry, so a new algorithm is covered for free.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPluginContainer, definePlugin, pluginModule, type Network, type TrainingHook } from '@qtdog/core';
import { builtinModules } from '@qtdog/cli';
import { fixtureRun } from './fixture-runs';

const START = 2;
const STEPS = 5;

/** Records the conv2 weight and step sizes after every step. */
function recorder() {
  const rows = new Map<number, { w: Float32Array; s: Float32Array | null }>();
  const plugin = definePlugin({
    kind: 'hook',
    name: 'StepRecorder',
    description: 'test probe',
    options: z.object({}),
    create: (): TrainingHook => ({
      name: 'StepRecorder',
      afterStep(step: number, network: Network) {
        const s = network.params.has('featurizer.conv2.lsq_step') ? network.params.get('featurizer.conv2.lsq_step').variable : null;
        rows.set(step, {
          w: (network.params.get('featurizer.conv2.weight').variable.dataSync() as Float32Array).slice(),
          s: s ? (s.dataSync() as Float32Array).slice() : null,
        });
      },
    }),
  });
  return { rows, module: pluginModule('quantization-step-recorder', [plugin]) };
}

const moved = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);
const algorithms = createPluginContainer(builtinModules()).registry.names('algorithm');

describe('LSQ composes with every registered algorithm', () => {
  it.each(algorithms)('%s + LSQ: weights and step sizes keep training after the switch', async (name) => {
    const { rows, module } = recorder();
    const r = await fixtureRun(
      { algorithm: { type: name, batchSize: 8, lr: 0.003 }, quantizer: { type: 'LSQ', bits: 7, startStep: START }, hooks: [{ type: 'StepRecorder' }], steps: STEPS, checkpointFreq: 4 },
      [module],
    );
    expect(r.last.quantized).toBe(true);
    expect(rows.get(START - 1)!.s).toBeNull();
    const first = rows.get(START)!;
    const last = rows.get(STEPS - 1)!;
    expect(first.s).not.toBeNull();
    expect(moved(last.s!, first.s!), `${name}: step sizes frozen after the switch`).toBe(true);
    expect(moved(last.w, first.w), `${name}: weights frozen after the switch`).toBe(true);
  });

  it('SWAD (a training hook) averages a quantized run', async () => {
    const r = await fixtureRun({ quantizer: { type: 'LSQ', bits: 7, startStep: START }, hooks: [{ type: 'SWAD', earlyStop: false }], steps: 8, checkpointFreq: 1 });
    expect(r.last.quantized).toBe(true);
    expect(Object.keys(r.final)).toContain('SWAD');
  });
});
