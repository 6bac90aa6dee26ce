import { describe, expect, it } from 'vitest';
import { createPluginContainer } from '@qtdog/core';
import { datasetsModule } from './datasets-module.js';

describe('datasetsModule', () => {
  it('contributes the MNIST and Fashion-MNIST datasets as dataset plugins from @qtdog/datasets', () => {
    const { registry } = createPluginContainer([datasetsModule]);
    for (const name of ['RotatedMNIST', 'ColoredMNIST', 'RotatedFashionMNIST', 'ColoredFashionMNIST']) {
      const def = registry.get('dataset', name);
      expect(def.source).toBe('@qtdog/datasets');
      expect(def.options.parse({})).toMatchObject({ seed: 0 });
    }
  });
});
