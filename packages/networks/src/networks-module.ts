import { pluginModule } from '@qtdog/core';
import { mnistCnnPlugin } from './mnist-cnn-plugin.js';

/** The ContainerModule contributing this package's network plugins. */
export const networksModule = pluginModule('@qtdog/networks', [mnistCnnPlugin]);
