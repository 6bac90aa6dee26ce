import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { BaseAlgorithmOptions, checkTestEnvs, closestKey, ConfigError, definePlugin, loadConfigFile, PluginRegistry, resolveRunConfig } from '../index.js';

const registry = new PluginRegistry([
  definePlugin({ kind: 'dataset', name: 'RotatedMNIST', description: '', options: z.object({ seed: z.number().default(0) }), create: () => ({}) }),
  definePlugin({ kind: 'network', name: 'MNIST_CNN', description: '', options: z.object({}), create: () => ({}) }),
  definePlugin({ kind: 'algorithm', name: 'ERM', description: '', options: BaseAlgorithmOptions, create: () => ({}) }),
  definePlugin({ kind: 'algorithm', name: 'CORAL', description: '', options: BaseAlgorithmOptions.extend({ mmdGamma: z.number().default(1) }), create: () => ({}) }),
]);

const good = `
dataset: { type: RotatedMNIST, testEnvs: [2] }
network: { type: MNIST_CNN }
algorithm: { type: ERM, lr: 0.001, batchSize: 16 }
train: { steps: 10 }
`;

function write(text: string, name = 'c.yaml'): string {
  const p = join(mkdtempSync(join(tmpdir(), 'qtdog-cfg-')), name);
  writeFileSync(p, text);
  return p;
}

function errorOf(text: string, name?: string): string {
  const p = write(text, name);
  try {
    const loaded = loadConfigFile(p);
    resolveRunConfig(loaded.config, registry, p);
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message.replaceAll(p, '<file>');
  }
  throw new Error('expected a config error');
}

describe('config loading and validation', () => {
  it('fills defaults for a good config, YAML and JSON alike', () => {
    const loaded = loadConfigFile(write(good));
    const r = resolveRunConfig(loaded.config, registry, 'c.yaml');
    expect(r.algorithm.options).toEqual({ lr: 0.001, batchSize: 16, weightDecay: 0 });
    expect(r.dataset).toMatchObject({ type: 'RotatedMNIST', testEnvs: [2], holdoutFraction: 0.2, options: { seed: 0 } });
    expect(r.train).toMatchObject({ steps: 10, checkpointFreq: 100, backend: 'auto' });
    const json = JSON.stringify({ dataset: { type: 'RotatedMNIST' }, network: { type: 'MNIST_CNN' }, algorithm: { type: 'ERM' }, train: { steps: 5 } });
    expect(resolveRunConfig(loadConfigFile(write(json, 'c.json')).config, registry, 'c.json').dataset.testEnvs).toEqual([0]);
  });

  it('names the closest plugins for an unknown type', () => {
    expect(errorOf(good.replace('type: ERM', 'type: ERN'))).toBe(
      "<file>: algorithm.type: unknown algorithm 'ERN'. Registered algorithms (closest first): ERM, CORAL",
    );
  });

  it('reports a wrong type with key path, expectation and what was found', () => {
    expect(errorOf(good.replace('lr: 0.001', 'lr: fast'))).toBe('<file>: algorithm.lr: expected number, found the string "fast"');
  });

  it('reports a missing required key', () => {
    expect(errorOf(good.replace('train: { steps: 10 }', 'train: { checkpointFreq: 10 }'))).toBe(
      '<file>: train.steps: required key is missing (expected number)',
    );
    expect(errorOf(good.replace('network: { type: MNIST_CNN }\n', ''))).toBe('<file>: network: required key is missing (expected object)');
  });

  it('reports negative steps', () => {
    expect(errorOf(good.replace('steps: 10', 'steps: -5'))).toBe('<file>: train.steps: Too small: expected number to be >0, found number -5');
  });

  it('reports unknown keys', () => {
    expect(errorOf(good.replace('lr: 0.001', 'lrr: 0.001'))).toBe('<file>: algorithm.lrr: unknown key (did you mean lr?)');
  });

  it('suggests the known key an unknown one most likely meant: abbreviation, case, typo; else lists the keys', () => {
    expect(errorOf(good.replace('lr: 0.001', 'learningRate: 0.001'))).toBe('<file>: algorithm.learningRate: unknown key (did you mean lr?)');
    expect(errorOf(good.replace('batchSize: 16', 'batchsize: 16'))).toBe('<file>: algorithm.batchsize: unknown key (did you mean batchSize?)');
    expect(errorOf(good.replace('train: { steps: 10 }', 'train: { steps: 10, chekpointFreq: 5 }'))).toBe(
      '<file>: train.chekpointFreq: unknown key (did you mean checkpointFreq?)',
    );
    expect(errorOf(`${good}trian: {}\n`)).toBe('<file>: trian: unknown key (did you mean train?)');
    expect(errorOf(good.replace('lr: 0.001', 'zzz: 1'))).toBe('<file>: algorithm.zzz: unknown key (known keys: lr, batchSize, weightDecay)');
    expect(closestKey('wd', ['lr', 'weightDecay'])).toBe('weightDecay');
    expect(closestKey('nothingLikeIt', ['lr', 'weightDecay'])).toBeUndefined();
  });

  it('reports the mistakes of every section at once, one line each', () => {
    const text = good.replace('lr: 0.001', 'learningRate: 0.001').replace('{ type: RotatedMNIST, testEnvs: [2] }', '{ type: RotatedMNIST, testEnvs: [2], sed: 1 }');
    expect(errorOf(text).split('\n')).toEqual([
      '<file>: dataset.sed: unknown key (did you mean seed?)',
      '<file>: algorithm.learningRate: unknown key (did you mean lr?)',
    ]);
  });

  it('reports a YAML syntax error with line and column', () => {
    expect(errorOf(good.replace('network: { type: MNIST_CNN }', 'network: { type: MNIST_CNN'))).toMatch(/^<file>:\d+:\d+: YAML syntax error: /);
  });

  it('reports a test environment out of range', () => {
    expect(() => checkTestEnvs([6], ['0', '15', '30', '45', '60', '75'], 'RotatedMNIST', 'c.yaml')).toThrow(
      'c.yaml: dataset.testEnvs[0]: 6 is out of range: RotatedMNIST has 6 environments (0..5: 0, 15, 30, 45, 60, 75)',
    );
  });

  it('reports a missing file', () => {
    expect(() => loadConfigFile('/nonexistent/x.yaml')).toThrow('/nonexistent/x.yaml: cannot read config file (no such file)');
  });
});
