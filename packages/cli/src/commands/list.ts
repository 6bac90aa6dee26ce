import { z } from 'zod';
import { PLUGIN_KINDS, createPluginContainer, type PluginDefinition } from '@qtdog/core';
import { builtinModules } from '../builtin-modules.js';
import { loadPluginModules } from '@qtdog/core';

export interface OptionInfo {
  name: string;
  type: string;
  default?: unknown;
  required: boolean;
  description?: string;
  search?: string;
}

/** Options of a plugin, read from its zod schema (so the listing cannot drift from the code). */
export function describeOptions(def: PluginDefinition): OptionInfo[] {
  const json = z.toJSONSchema(def.options as z.ZodType, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, { type?: string; default?: unknown; description?: string; items?: { type?: string }; enum?: unknown[] }>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, p]) => ({
    name,
    type: p.enum ? p.enum.map((v) => JSON.stringify(v)).join('|') : p.type === 'array' ? `${p.items?.type ?? 'any'}[]` : (p.type ?? 'any'),
    default: p.default,
    required: (json.required ?? []).includes(name) && p.default === undefined,
    description: p.description,
    search: def.hparams?.[name]?.describe,
  }));
}

export async function listCommand(opts: { json?: boolean; plugins?: string[] }): Promise<void> {
  const extra = await loadPluginModules(opts.plugins ?? [], process.cwd(), 'command line');
  const { registry } = createPluginContainer([...builtinModules(), ...extra]);
  const data = Object.fromEntries(
    PLUGIN_KINDS.map((kind) => [
      kind,
      registry.list(kind).map((d) => ({ name: d.name, source: d.source, description: d.description, options: describeOptions(d) })),
    ]),
  );
  if (opts.json) {
    process.stdout.write(JSON.stringify(data, null, 2) + '\n');
    return;
  }
  const lines: string[] = [];
  for (const kind of PLUGIN_KINDS) {
    const items = data[kind]!;
    lines.push(`${kind} (${items.length})`);
    if (items.length === 0) lines.push('  (none registered)');
    for (const it of items) {
      lines.push(`  ${it.name}  [${it.source}]  ${it.description}`);
      for (const o of it.options) {
        const dflt = o.required ? 'required' : o.default === undefined ? 'optional' : `default ${JSON.stringify(o.default)}`;
        lines.push(`      ${o.name}: ${o.type}, ${dflt}${o.search ? `, search ${o.search}` : ''}`);
      }
    }
  }
  process.stdout.write(lines.join('\n') + '\n');
}
