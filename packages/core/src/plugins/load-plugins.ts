import { pathToFileURL } from 'node:url';
import type { ContainerModule } from 'inversify';
import { ConfigError } from '../errors.js';
import { resolvePluginSpec } from './plugin-spec.js';

export function isContainerModule(v: unknown): v is ContainerModule {
  // Duck-typed: a plugin package may bring its own copy of inversify.
  return typeof v === 'object' && v !== null && typeof (v as { registry?: unknown }).registry === 'function' && 'id' in v;
}

/**
 * A plugin outside the repository that imports zod or TensorFlow.js directly finds neither: they are
 * installed with qtdog, not next to the plugin. `@qtdog/core` re-exports both (docs/plugins.md).
 */
function missingPackageHint(message: string): string {
  const m = /Cannot find package '([^']+)'/.exec(message);
  if (!m) return '';
  if (m[1] === '@qtdog/core') return ' (install @qtdog/core next to the plugin: docs/plugins.md, "A plugin outside the repository")';
  if (m[1] === 'zod' || m[1] === '@tensorflow/tfjs-core') return ` (import { z, tf } from '@qtdog/core' instead of '${m[1]}': docs/plugins.md, "A plugin outside the repository")`;
  return '';
}

/**
 * Loads third-party plugin modules named in a config's `plugins:` list. Relative paths resolve
 * against the config file's folder; bare names resolve like `import` from there. Every export that
 * is a ContainerModule is used. `keyPrefix` places the list in its file (`base.` for a sweep's
 * inline base config).
 */
export async function loadPluginModules(specs: string[], baseDir: string, file: string, keyPrefix = ''): Promise<ContainerModule[]> {
  const modules: ContainerModule[] = [];
  for (const [i, spec] of specs.entries()) {
    const where = `${file}: ${keyPrefix}plugins[${i}]`;
    let url: string;
    try {
      url = pathToFileURL(resolvePluginSpec(spec, baseDir)).href;
    } catch (e) {
      throw new ConfigError(`${where}: ${(e as Error).message}`);
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e) {
      const first = (e as Error).message.split('\n')[0]!;
      throw new ConfigError(`${where}: loading '${spec}' failed: ${first}${missingPackageHint(first)}`);
    }
    const found = Object.values(mod).filter(isContainerModule);
    if (found.length === 0) {
      throw new ConfigError(`${where}: '${spec}' exports no inversify ContainerModule (export one built with pluginModule())`);
    }
    modules.push(...new Set(found));
  }
  return modules;
}
