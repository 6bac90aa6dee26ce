import { pluginModule } from '@qtdog/core';
import { coloredMnistPlugin } from './colored-mnist.js';
import { rotatedMnistPlugin } from './rotated-mnist.js';

/** The ContainerModule contributing this package's dataset plugins. */
export const datasetsModule = pluginModule('@qtdog/datasets', [rotatedMnistPlugin, coloredMnistPlugin]);
