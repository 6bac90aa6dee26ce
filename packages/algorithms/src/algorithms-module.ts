import { pluginModule } from '@qtdog/core';
import { coralPlugin } from './coral.js';
import { ermPlugin } from './erm.js';
import { mmdPlugin } from './mmd.js';

/** Every plugin of this package: the algorithms, and SWAD (a training hook). */
export const algorithmPlugins = [
  ermPlugin,
  coralPlugin,
  mmdPlugin,
];

/** The ContainerModule contributing this package's plugins. */
export const algorithmsModule = pluginModule('@qtdog/algorithms', algorithmPlugins);
