import { pluginModule } from '@qtdog/core';
import { coloredFashionMnistPlugin } from './colored-fashion-mnist.js';
import { coloredMnistPlugin } from './colored-mnist.js';
import { imageFolderDomainsPlugin } from './image-folder-domains.js';
import { imageFolderPresetPlugins } from './image-folder-presets.js';
import { rotatedFashionMnistPlugin } from './rotated-fashion-mnist.js';
import { rotatedMnistPlugin } from './rotated-mnist.js';
import { syntheticDomainsPlugin } from './synthetic-domains.js';

/** The ContainerModule contributing this package's dataset plugins. */
export const datasetsModule = pluginModule('@qtdog/datasets', [
  rotatedMnistPlugin,
  coloredMnistPlugin,
  rotatedFashionMnistPlugin,
  coloredFashionMnistPlugin,
  imageFolderDomainsPlugin,
  ...imageFolderPresetPlugins,
  syntheticDomainsPlugin,
]);
