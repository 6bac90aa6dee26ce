import { pluginModule } from '@qtdog/core';
import { ermPlugin } from './erm.js';

/** The ContainerModule contributing this package's algorithm plugins. */
export const algorithmsModule = pluginModule('@qtdog/algorithms', [ermPlugin]);
