import type { z } from 'zod';

/** Renders a value the way a user typed it, short. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeof v} ${String(v)}`;
  if (Array.isArray(v)) return `a list (${JSON.stringify(v).slice(0, 60)})`;
  return `an object (${JSON.stringify(v).slice(0, 60)})`;
}

export function keyPath(path: ReadonlyArray<PropertyKey>): string {
  let out = '';
  for (const k of path) out += typeof k === 'number' ? `[${k}]` : out ? `.${String(k)}` : String(k);
  return out || '(top level)';
}

/**
 * One line per zod issue: "<file>: <key.path>: <what was expected>, found <what was there>".
 */
export function formatIssues(file: string, prefix: ReadonlyArray<PropertyKey>, issues: z.core.$ZodIssue[]): string {
  return issues
    .map((i) => {
      const where = keyPath([...prefix, ...i.path]);
      if (i.code === 'unrecognized_keys') {
        const keys = i.keys.map((k) => keyPath([...prefix, ...i.path, k]));
        return `${file}: ${keys.join(', ')}: unknown key${keys.length > 1 ? 's' : ''}`;
      }
      const input = (i as { input?: unknown }).input;
      let msg = i.message.replace(/^Invalid input: /, '').replace(/, received \w+$/, '');
      if (i.code === 'invalid_type' && input === undefined) msg = `required key is missing (expected ${i.expected})`;
      const found = i.code === 'invalid_type' && input === undefined ? '' : `, found ${describeValue(input)}`;
      return `${file}: ${where}: ${msg}${found}`;
    })
    .join('\n');
}
