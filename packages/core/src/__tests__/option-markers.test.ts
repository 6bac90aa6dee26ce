import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  absolutePathOptions,
  BaseAlgorithmOptions,
  bindRunComponents,
  checkpointCount,
  ConfigError,
  createPluginContainer,
  DatasetToken,
  definePlugin,
  pathOption,
  pathOptionKeys,
  pluginModule,
  PluginRegistry,
  resolveRunConfig,
  stepOption,
  validateRunConfig,
} from '../index.js';

const quantizer = definePlugin({
  kind: 'quantizer',
  name: 'Q',
  description: '',
  options: z.object({ startStep: stepOption(z.number().int().min(0), { counts: 'step', neverReached: 'quantization never starts', severity: 'error' }).default(2000) }),
  create: () => ({}),
});
const hook = definePlugin({
  kind: 'hook',
  name: 'Avg',
  description: '',
  options: z.object({ nConverge: stepOption(z.number().int(), { counts: 'checkpoint', neverReached: 'nothing is averaged', severity: 'error' }).default(3) }),
  create: () => ({}),
});
const annealed = definePlugin({
  kind: 'algorithm',
  name: 'Annealed',
  description: '',
  options: BaseAlgorithmOptions.extend({ annealIters: stepOption(z.number().int(), { counts: 'step', neverReached: 'the penalty stays at 1', severity: 'warn' }).default(500) }),
  create: () => ({}),
});
const seen: Record<string, unknown>[] = [];
const folderData = definePlugin({
  kind: 'dataset',
  name: 'Folder',
  description: '',
  options: z.object({ root: pathOption('folder'), extra: pathOption().optional(), lists: z.array(pathOption()).default([]), label: z.string().default('x') }),
  create(options) {
    seen.push(options);
    return { name: 'Folder', environments: ['a', 'b'], inputShape: [1, 1, 1], numClasses: 2, load: async () => [] };
  },
});
const net = definePlugin({ kind: 'network', name: 'N', description: '', options: z.object({}), create: () => ({}) });
const registry = new PluginRegistry([quantizer, hook, annealed, folderData, net]);

const config = (over: Record<string, unknown> = {}) =>
  validateRunConfig({ dataset: { type: 'Folder', root: 'data' }, network: { type: 'N' }, algorithm: { type: 'Annealed', annealIters: 5 }, train: { steps: 10 }, ...over }, 'c.yaml');

describe('step options: an option the run never reaches is caught at config time', () => {
  it('refuses a start step at or past train.steps, naming the file and key in one line', () => {
    expect(() => resolveRunConfig(config({ quantizer: { type: 'Q' } }), registry, 'c.yaml')).toThrow(
      new ConfigError(
        'c.yaml: quantizer.startStep: 2000 is not below train.steps (10), so the run ends first: quantization never starts; set it below 10 or raise train.steps',
      ),
    );
    expect(() => resolveRunConfig(config({ quantizer: { type: 'Q', startStep: 10 } }), registry, 'c.yaml')).toThrow(/quantizer\.startStep: 10 is not below train\.steps/);
    expect(resolveRunConfig(config({ quantizer: { type: 'Q', startStep: 9 } }), registry, 'c.yaml').quantizer?.options.startStep).toBe(9);
  });

  it('counts checkpoints for options that need several (step 0, every checkpointFreq, the last step)', () => {
    expect(checkpointCount(10, 100)).toBe(2);
    expect(checkpointCount(11, 5)).toBe(3);
    expect(checkpointCount(12, 5)).toBe(4);
    expect(checkpointCount(1, 5)).toBe(1);
    expect(() => resolveRunConfig(config({ hooks: [{ type: 'Avg' }] }), registry, 'c.yaml')).toThrow(
      'c.yaml: hooks[0].nConverge: 3 checkpoints needed, but the run has 2 (train.steps: 10, train.checkpointFreq: 100): nothing is averaged; lower it or checkpoint more often',
    );
    expect(() => resolveRunConfig(config({ hooks: [{ type: 'Avg' }], train: { steps: 10, checkpointFreq: 4 } }), registry, 'c.yaml')).not.toThrow();
  });

  it('only warns where the option marks itself as a warning', () => {
    const warnings: string[] = [];
    const r = resolveRunConfig(config({ algorithm: { type: 'Annealed' } }), registry, 'c.yaml', { warn: (m) => warnings.push(m) });
    expect(r.algorithm.options.annealIters).toBe(500);
    expect(warnings).toEqual([
      'warning: c.yaml: algorithm.annealIters: 500 is not below train.steps (10), so the run ends first: the penalty stays at 1; set it below 10 or raise train.steps',
    ]);
  });
});

describe('path options: resolved against the folder of the file that wrote them', () => {
  it('finds the marked options through optional, default and list wrappers', () => {
    expect(pathOptionKeys(folderData.options)).toEqual(['root', 'extra', 'lists']);
    expect(absolutePathOptions(folderData.options, { root: 'data', extra: '/abs/x', lists: ['a', '/b'], label: 'rel' }, '/cfg')).toEqual({
      root: '/cfg/data',
      extra: '/abs/x',
      lists: ['/cfg/a', '/b'],
      label: 'rel',
    });
    expect(absolutePathOptions(folderData.options, { root: 'data' }, '/cfg', ['extra'])).toEqual({ root: 'data' });
  });

  it('hands plugins absolute paths while the recorded config keeps what was written', async () => {
    const { container, registry: reg } = createPluginContainer([pluginModule('test', [folderData, net, annealed])]);
    const loaded = { config: config(), file: '/configs/c.yaml', baseDir: '/configs' };
    const resolved = bindRunComponents(container, reg, loaded, '/out', () => {});
    expect(resolved.dataset.options.root).toBe('data');
    await container.getAsync(DatasetToken);
    expect(seen.at(-1)).toMatchObject({ root: '/configs/data' });
  });
});
