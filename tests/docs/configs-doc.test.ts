// docs/configs.md is generated from the schemas by tools/docs/gen-configs.mjs; this checks that the
// committed page is what the generator makes now, and that it agrees with `qtdog list --json`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PLUGIN_KINDS, createPluginContainer } from '@qtdog/core';
import { builtinModules } from '@qtdog/cli';
import { HEADER, renderConfigsDoc } from '../../tools/docs/gen-configs.mjs';
import { ROOT, qtdog } from '../helpers';

const doc = readFileSync(join(ROOT, 'docs/configs.md'), 'utf8');
const lines = doc.split('\n');

/** The cells of a markdown table row (`\|` is a pipe inside a cell). */
const cells = (row: string) =>
  row
    .trim()
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, '|'));
const unquote = (c: string) => c.replace(/^`(.*)`$/, '$1');

/** The option rows of a plugin's table: the lines under `#### name` in the section of its kind. */
function optionRows(kind: string, name: string): string[][] {
  const kindAt = lines.indexOf(`### ${kind} plugins`);
  expect(kindAt, `no section for kind ${kind}`).toBeGreaterThanOrEqual(0);
  const at = lines.indexOf(`#### ${name}`, kindAt);
  expect(at, `no heading for ${kind} ${name}`).toBeGreaterThan(kindAt);
  const rows: string[][] = [];
  for (let i = at + 1; i < lines.length && !lines[i]!.startsWith('#'); i++) {
    if (lines[i]!.startsWith('| ') && !lines[i]!.startsWith('| option |')) rows.push(cells(lines[i]!));
  }
  return rows;
}

describe('docs/configs.md', () => {
  it('is what tools/docs/gen-configs.mjs generates from the current schemas', () => {
    expect(doc, 'docs/configs.md is out of date: run `node tools/docs/gen-configs.mjs`').toBe(renderConfigsDoc());
    expect(lines).toContain(HEADER);
  });

  it('has a section for every registered plugin of every kind', () => {
    const { registry } = createPluginContainer(builtinModules());
    let count = 0;
    for (const kind of PLUGIN_KINDS) {
      const kindAt = lines.indexOf(`### ${kind} plugins`);
      expect(kindAt, `no section for kind ${kind}`).toBeGreaterThanOrEqual(0);
      const next = PLUGIN_KINDS.map((k) => lines.indexOf(`### ${k} plugins`)).filter((i) => i > kindAt);
      const section = lines.slice(kindAt, next.length > 0 ? Math.min(...next) : undefined);
      for (const def of registry.list(kind)) {
        expect(section, `${kind} ${def.name} is missing`).toContain(`#### ${def.name}`);
        count++;
      }
    }
    expect(count).toBeGreaterThan(20);
  });

  it('lists the same options as `qtdog list --json` (LSQ, ERM)', () => {
    const r = qtdog(['list', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const listed = JSON.parse(r.stdout) as Record<string, Array<{ name: string; options: Array<{ name: string; search?: string }> }>>;
    for (const [kind, name] of [
      ['quantizer', 'LSQ'],
      ['algorithm', 'ERM'],
    ] as const) {
      const options = listed[kind]!.find((p) => p.name === name)!.options;
      const rows = optionRows(kind, name);
      expect(rows.map((c) => unquote(c[0]!)), `${name}: option names`).toEqual(options.map((o) => o.name));
      expect(rows.map((c) => unquote(c[3]!)), `${name}: random-search distributions`).toEqual(options.map((o) => o.search ?? '—'));
    }
  });
});
