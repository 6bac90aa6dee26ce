import { pluginModule } from '@qtdog/core';
import { lsqPlugin } from './lsq-quantizer.js';

/** The ContainerModule contributing this package's quantizer plugins. */
export const quantizersModule = pluginModule('@qtdog/quantizers', [lsqPlugin]);
