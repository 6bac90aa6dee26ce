import { ContainerModule } from 'inversify';
import { PluginContribution } from '../tokens.js';
import type { PluginDefinition } from './plugin.js';

/**
 * The ContainerModule a package exports to contribute its plugins (one per package, as Theia does).
 * `source` names the package in duplicate-name errors.
 */
export function pluginModule(source: string, plugins: PluginDefinition[]): ContainerModule {
  return new ContainerModule((bind) => {
    for (const p of plugins) {
      bind(PluginContribution).toConstantValue({ ...p, source: p.source ?? source });
    }
  });
}
