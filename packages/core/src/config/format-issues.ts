import { z } from 'zod';
import { closestKey } from './closest-key.js';
import { unwrapSchema } from './schema-fields.js';

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

/** The keys the object schema at `path` (inside `schema`) accepts, looking through wrappers, lists and unions. */
export function knownKeysAt(schema: z.ZodType | undefined, path: ReadonlyArray<PropertyKey>): string[] | undefined {
  let candidates: z.ZodType[] = schema ? [schema] : [];
  for (const k of path) {
    const next: z.ZodType[] = [];
    for (const c of candidates.flatMap(expand)) {
      if (c instanceof z.ZodObject && typeof k === 'string' && k in c.shape) next.push(c.shape[k] as z.ZodType);
      else if (c instanceof z.ZodArray && typeof k === 'number') next.push(c.element as z.ZodType);
      else if (c instanceof z.ZodRecord) next.push(c._zod.def.valueType as z.ZodType);
    }
    candidates = next;
  }
  const objects = candidates.flatMap(expand).filter((c): c is z.ZodObject => c instanceof z.ZodObject);
  return objects.length > 0 ? [...new Set(objects.flatMap((o) => Object.keys(o.shape)))] : undefined;
}

/** A schema and what it wraps, and the members of a union. */
function expand(s: z.ZodType): z.ZodType[] {
  return unwrapSchema(s).flatMap((u) => (u instanceof z.ZodUnion ? (u.options as z.ZodType[]).flatMap(expand) : [u]));
}

/** " (did you mean lr?)", or the accepted keys when none is close; empty when the schema is not known. */
function unknownKeyHint(key: string, known: string[] | undefined): string {
  if (!known || known.length === 0) return '';
  const guess = closestKey(key, known);
  if (guess !== undefined) return ` (did you mean ${guess}?)`;
  return ` (known keys: ${known.slice(0, 16).join(', ')}${known.length > 16 ? ', ...' : ''})`;
}

/**
 * One line per zod issue: "<file>: <key.path>: <what was expected>, found <what was there>". With
 * the schema that was checked, an unknown key names the closest known one.
 */
export function formatIssues(file: string, prefix: ReadonlyArray<PropertyKey>, issues: z.core.$ZodIssue[], schema?: z.ZodType): string {
  return issues
    .map((i) => {
      const where = keyPath([...prefix, ...i.path]);
      if (i.code === 'unrecognized_keys') {
        // One line per key, each with its own suggestion.
        const known = knownKeysAt(schema, i.path);
        return i.keys.map((k) => `${file}: ${keyPath([...prefix, ...i.path, k])}: unknown key${unknownKeyHint(k, known)}`).join('\n');
      }
      const input = (i as { input?: unknown }).input;
      let msg = i.message.replace(/^Invalid input: /, '').replace(/, received \w+$/, '');
      if (i.code === 'invalid_type' && input === undefined) msg = `required key is missing (expected ${i.expected})`;
      const found = i.code === 'invalid_type' && input === undefined ? '' : `, found ${describeValue(input)}`;
      return `${file}: ${where}: ${msg}${found}`;
    })
    .join('\n');
}
