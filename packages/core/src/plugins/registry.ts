import { closest, distance } from 'fastest-levenshtein';
import { PluginError } from '../errors.js';
import { PLUGIN_KINDS, type PluginDefinition, type PluginKind } from './plugin.js';

/**
 * All known plugins by kind and name. Built from the PluginContribution bindings of the loaded
 * ContainerModules; a duplicate name is an error naming both sources unless the newcomer says
 * `override: true`.
 */
export class PluginRegistry {
  private readonly byKind = new Map<PluginKind, Map<string, PluginDefinition>>(
    PLUGIN_KINDS.map((k) => [k, new Map()]),
  );

  constructor(definitions: Iterable<PluginDefinition> = []) {
    for (const d of definitions) this.add(d);
  }

  add(def: PluginDefinition): void {
    if (!PLUGIN_KINDS.includes(def.kind)) {
      throw new PluginError(
        `plugin '${def.name}' from ${def.source ?? 'an unknown source'} has unknown kind '${def.kind}'; kinds are: ${PLUGIN_KINDS.join(', ')}`,
      );
    }
    const table = this.byKind.get(def.kind)!;
    const existing = table.get(def.name);
    if (existing && !def.override) {
      throw new PluginError(
        `duplicate ${def.kind} plugin '${def.name}': registered by ${existing.source ?? 'an unknown source'} and again by ${def.source ?? 'an unknown source'} (set override: true on the second to replace the first on purpose)`,
      );
    }
    table.set(def.name, def);
  }

  has(kind: PluginKind, name: string): boolean {
    return this.byKind.get(kind)!.has(name);
  }

  names(kind: PluginKind): string[] {
    return [...this.byKind.get(kind)!.keys()].sort();
  }

  list(kind: PluginKind): PluginDefinition[] {
    return this.names(kind).map((n) => this.byKind.get(kind)!.get(n)!);
  }

  /** The plugin, or an error that lists the registered names of that kind, closest first. */
  get(kind: PluginKind, name: string, where?: string): PluginDefinition {
    const def = this.byKind.get(kind)!.get(name);
    if (def) return def;
    const names = this.names(kind);
    const at = where ? `${where}: ` : '';
    if (names.length === 0) {
      throw new PluginError(`${at}unknown ${kind} '${name}': no ${kind} plugins are registered (is the package that provides them listed under plugins:?)`);
    }
    const ranked = rankByCloseness(name, names);
    throw new PluginError(
      `${at}unknown ${kind} '${name}'. Registered ${kind}s (closest first): ${ranked.join(', ')}`,
    );
  }
}

/** Names sorted by edit distance to `name` (case-insensitive), ties alphabetical. */
export function rankByCloseness(name: string, names: string[]): string[] {
  const lower = name.toLowerCase();
  const best = names.length ? closest(name, names) : undefined;
  return [...names].sort((a, b) => {
    const da = distance(lower, a.toLowerCase());
    const db = distance(lower, b.toLowerCase());
    if (da !== db) return da - db;
    if (a === best) return -1;
    if (b === best) return 1;
    return a.localeCompare(b);
  });
}
