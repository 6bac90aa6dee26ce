import { describe, expect, it } from 'vitest';
import { createPluginContainer } from '@qtdog/core';
import { datasetsModule } from './datasets-module.js';

describe('datasetsModule', () => {
  it('contributes the MNIST and Fashion-MNIST datasets as dataset plugins from @qtdog/datasets', () => {
    const { registry } = createPluginContainer([datasetsModule]);
    for (const name of ['RotatedMNIST', 'ColoredMNIST', 'RotatedFashionMNIST', 'ColoredFashionMNIST', 'SyntheticDomains']) {
      const def = registry.get('dataset', name);
      expect(def.source).toBe('@qtdog/datasets');
      expect(def.options.parse({})).toMatchObject({ seed: 0 });
    }
  });

  it('contributes ImageFolderDomains and the DomainBed presets with the image options and their defaults', () => {
    const { registry } = createPluginContainer([datasetsModule]);
    const defaults = { imageSize: 224, augment: true, cacheSize: 1024, onCorruptImage: 'fail', verify: 'header' };
    expect(registry.get('dataset', 'ImageFolderDomains').options.parse({ root: 'x' })).toEqual({ root: 'x', ...defaults });
    for (const name of ['PACS', 'VLCS', 'OfficeHome', 'TerraIncognita', 'DomainNet']) {
      const def = registry.get('dataset', name);
      expect(def.source).toBe('@qtdog/datasets');
      // The default root is written into the resolved config (so a sweep job reads the same folder).
      expect(def.options.parse({})).toEqual({ root: expect.stringMatching(/\/[A-Za-z_]+$/), ...defaults });
    }
  });
});
