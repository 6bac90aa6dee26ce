import { pluginModule } from '@qtdog/core';
import { ermPlugin } from './erm.js';

/** Every plugin of this package: the algorithms, and SWAD (a training hook). */
export const algorithmPlugins = [
  ermPlugin,
];

/** The ContainerModule contributing this package's plugins. */
export const algorithmsModule = pluginModule('@qtdog/algorithms', algorithmPlugins);
