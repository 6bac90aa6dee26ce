import { pluginModule } from '@qtdog/core';

/**
 * The ContainerModule of @qtdog/deploy. Deployment adds commands and formats, not training plugins,
 * so it contributes none yet; it is loaded like every package's module so a future plugin here
 * (say, an evaluator that scores the exported model) needs no change elsewhere.
 */
export const deployModule = pluginModule('@qtdog/deploy', []);
