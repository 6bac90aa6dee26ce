import { pluginModule } from '@qtdog/core';
import { mnistCnnPlugin } from './mnist-cnn-plugin.js';
import { resnet18Plugin, resnet50Plugin } from './resnet-plugin.js';
import { tfjsBackbonePlugin } from './tfjs-backbone-plugin.js';

/** The ContainerModule contributing this package's network plugins. */
export const networksModule = pluginModule('@qtdog/networks', [mnistCnnPlugin, resnet18Plugin, resnet50Plugin, tfjsBackbonePlugin]);
