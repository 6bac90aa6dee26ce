import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import type { ContainerModule } from 'inversify';
import { ConfigError } from '../errors.js';

export function isContainerModule(v: unknown): v is ContainerModule {
  // Duck-typed: a plugin package may bring its own copy of inversify.
  return typeof v === 'object' && v !== null && typeof (v as { registry?: unknown }).registry === 'function' && 'id' in v;
}

/**
 * Loads third-party plugin modules named in a config's `plugins:` list. Relative paths resolve
 * against the config file's folder; bare names resolve like `import` from there. Every export that
 * is a ContainerModule is used.
 */
export async function loadPluginModules(specs: string[], baseDir: string, file: string): Promise<ContainerModule[]> {
  const modules: ContainerModule[] = [];
  for (const [i, spec] of specs.entries()) {
    let url: string;
    try {
      if (spec.startsWith('.') || isAbsolute(spec)) {
        url = pathToFileURL(resolve(baseDir, spec)).href;
      } else {
        url = pathToFileURL(createRequire(resolve(baseDir, 'noop.js')).resolve(spec)).href;
      }
    } catch (e) {
      throw new ConfigError(`${file}: plugins[${i}]: cannot find plugin package '${spec}' from ${baseDir} (${(e as Error).message.split('\n')[0]})`);
    }
    let mod: Record<string, unknown>;
    try {
      mod = (await import(url)) as Record<string, unknown>;
    } catch (e) {
      throw new ConfigError(`${file}: plugins[${i}]: loading '${spec}' failed: ${(e as Error).message.split('\n')[0]}`);
    }
    const found = Object.values(mod).filter(isContainerModule);
    if (found.length === 0) {
      throw new ConfigError(`${file}: plugins[${i}]: '${spec}' exports no inversify ContainerModule (export one built with pluginModule())`);
    }
    modules.push(...new Set(found));
  }
  return modules;
}
