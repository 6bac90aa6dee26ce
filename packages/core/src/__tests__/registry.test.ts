import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPluginContainer, definePlugin, pluginModule, PluginRegistry, rankByCloseness } from '../index.js';

const algo = (name: string, extra: Partial<{ override: boolean }> = {}) =>
  definePlugin({ kind: 'algorithm', name, description: name, options: z.object({}), create: () => ({ name }), ...extra });

describe('PluginRegistry', () => {
  it('collects plugins from ContainerModules', () => {
    const { registry } = createPluginContainer([pluginModule('pkg-a', [algo('ERM'), algo('CORAL')])]);
    expect(registry.names('algorithm')).toEqual(['CORAL', 'ERM']);
    expect(registry.get('algorithm', 'ERM').source).toBe('pkg-a');
  });

  it('rejects a duplicate name, naming both sources', () => {
    expect(() => createPluginContainer([pluginModule('pkg-a', [algo('ERM')]), pluginModule('pkg-b', [algo('ERM')])])).toThrow(
      "duplicate algorithm plugin 'ERM': registered by pkg-a and again by pkg-b (set override: true on the second to replace the first on purpose)",
    );
  });

  it('lets a plugin override on purpose', () => {
    const { registry } = createPluginContainer([
      pluginModule('pkg-a', [algo('ERM')]),
      pluginModule('pkg-b', [algo('ERM', { override: true })]),
    ]);
    expect(registry.get('algorithm', 'ERM').source).toBe('pkg-b');
  });

  it('lists registered names closest first for an unknown name', () => {
    const r = new PluginRegistry([algo('ERM'), algo('CORAL'), algo('MMD'), algo('IRM')]);
    expect(() => r.get('algorithm', 'ERN')).toThrow("unknown algorithm 'ERN'. Registered algorithms (closest first): ERM, IRM, MMD, CORAL");
    expect(rankByCloseness('coral', ['MMD', 'CORAL', 'ERM'])[0]).toBe('CORAL');
  });

  it('says when a kind has no plugins at all', () => {
    expect(() => new PluginRegistry().get('quantizer', 'LSQ')).toThrow(/no quantizer plugins are registered/);
  });
});
