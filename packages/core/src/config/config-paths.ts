import { existsSync } from 'node:fs';
import type { PluginRegistry } from '../plugins/registry.js';
import { absolutePathOptions, pathOptionKeys } from './path-options.js';
import { configSections, type ResolvedRunConfig } from './resolve-config.js';

/** A section's key path as written in errors: `dataset`, `hooks[0]`. */
export const sectionKeyPath = (path: ReadonlyArray<string | number>) => path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i ? `.${p}` : p)).join('');

/**
 * The config with every path option absolute: `folderOf(section, key)` is the folder of the file
 * that wrote the option (a sweep's entries and its base config may sit in different folders).
 */
export function absoluteConfigPaths(
  config: ResolvedRunConfig,
  registry: PluginRegistry,
  folderOf: string | ((section: string, key: string) => string),
): ResolvedRunConfig {
  const out: ResolvedRunConfig = { ...config, hooks: [...config.hooks], evaluators: [...config.evaluators] };
  for (const { kind, path, section } of configSections(config)) {
    const schema = registry.get(kind, section.type).options;
    const name = sectionKeyPath(path);
    let options = section.options;
    for (const key of pathOptionKeys(schema)) {
      const dir = typeof folderOf === 'string' ? folderOf : folderOf(name, key);
      options = absolutePathOptions(schema, options, dir, [key]);
    }
    const abs = { ...section, options };
    if (path[0] === 'hooks') out.hooks[path[1] as number] = abs;
    else if (path[0] === 'evaluators') out.evaluators[path[1] as number] = abs;
    else (out as unknown as Record<string, unknown>)[path[0] as string] = path[0] === 'dataset' ? { ...config.dataset, options } : abs;
  }
  return out;
}

/** One line per path option (already absolute) naming something that does not exist. */
export function missingPaths(config: ResolvedRunConfig, registry: PluginRegistry, file: string): string[] {
  const problems: string[] = [];
  for (const { kind, path, section } of configSections(config)) {
    for (const key of pathOptionKeys(registry.get(kind, section.type).options)) {
      const v = section.options[key];
      for (const p of Array.isArray(v) ? v : [v]) {
        if (typeof p === 'string' && !existsSync(p)) problems.push(`${file}: ${sectionKeyPath(path)}.${key}: ${p} does not exist`);
      }
    }
  }
  return problems;
}
