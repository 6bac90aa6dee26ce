import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createPluginContainer, loadConfigFile, resolveRunConfig } from '@qtdog/core';
import { datasetsModule } from '@qtdog/datasets';
import { networksModule } from '@qtdog/networks';
import { quantizersModule } from '@qtdog/quantizers';
import { describe, expect, it } from 'vitest';
import { algorithmsModule } from '../index.js';

// Every registered algorithm has its RotatedMNIST config (the acceptance runs), with the
// protocol of configs/rmnist-erm.yaml and the plugin's own (DomainBed) defaults.
const configs = fileURLToPath(new URL('../../../../configs/', import.meta.url));
const { registry } = createPluginContainer([datasetsModule, networksModule, algorithmsModule, quantizersModule]);
const names = createPluginContainer([algorithmsModule]).registry.names('algorithm');

function load(file: string) {
  const loaded = loadConfigFile(`${configs}${file}`);
  return resolveRunConfig(loaded.config, registry, loaded.file);
}

describe('configs/rmnist-<algorithm>.yaml', () => {
  it.each(names)('%s', (name) => {
    const file = `rmnist-${name.toLowerCase()}.yaml`;
    expect(existsSync(`${configs}${file}`), file).toBe(true);
    const config = load(file);
    expect(config.dataset).toMatchObject({ type: 'RotatedMNIST', testEnvs: [0], holdoutFraction: 0.2 });
    expect(config.network.type).toBe('MNIST_CNN');
    expect(config.train).toMatchObject({ steps: 1001, checkpointFreq: 100 });
    expect(config.algorithm.type).toBe(name);
    const defaults = registry.get('algorithm', name).options.parse({}) as Record<string, unknown>;
    expect(config.algorithm.options).toEqual({ ...defaults, lr: 1e-3, batchSize: 32 });
  });

  it('rmnist-erm-swad.yaml: ERM with the SWAD hook at its defaults', () => {
    const config = load('rmnist-erm-swad.yaml');
    expect(config.algorithm.type).toBe('ERM');
    expect(config.hooks).toEqual([{ type: 'SWAD', options: { nConverge: 3, nTolerance: 6, toleranceRatio: 0.3, earlyStop: true } }]);
    expect(config.train).toMatchObject({ steps: 1001, checkpointFreq: 100 });
  });
});
