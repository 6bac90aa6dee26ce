import { describe, expect, it } from 'vitest';
import { createPluginContainer } from '@qtdog/core';
import { networksModule } from '../networks-module.js';

describe('networksModule', () => {
  it('contributes MNIST_CNN, ResNet18, ResNet50 and TfjsBackbone from @qtdog/networks', () => {
    const { registry } = createPluginContainer([networksModule]);
    for (const name of ['MNIST_CNN', 'ResNet18', 'ResNet50', 'TfjsBackbone']) expect(registry.get('network', name).source).toBe('@qtdog/networks');
    expect(registry.get('network', 'ResNet50').options.parse({})).toEqual({ dropout: 0 });
    expect(registry.get('network', 'ResNet18').hparams?.dropout?.describe).toBe('choice{0, 0.1, 0.5}');
    expect(registry.get('network', 'TfjsBackbone').options.parse({ model: 'm' })).toEqual({ model: 'm', freezeBN: true, dropout: 0 });
  });
});
