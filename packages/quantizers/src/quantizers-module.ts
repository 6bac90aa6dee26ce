import { pluginModule } from '@qtdog/core';
import { lsqPlugin } from './lsq-quantizer.js';
import { minMaxPlugin } from './minmax-quantizer.js';
import { weightNoisePlugin } from './weight-noise.js';

/** The ContainerModule contributing this package's quantizer plugins. */
export const quantizersModule = pluginModule('@qtdog/quantizers', [lsqPlugin, minMaxPlugin, weightNoisePlugin]);
