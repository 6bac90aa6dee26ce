import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { fieldMeta, schemaFields, unwrapSchema } from './schema-fields.js';

/** What a path option names: a file, a folder, or either. */
export interface PathOptionMeta {
  readonly names: 'file' | 'folder' | 'file or folder';
}

/** Marks the string options that are paths of things a plugin reads (data roots, weight files). */
export const PathOptions = z.registry<PathOptionMeta>();

/**
 * A string option that is a path: relative paths resolve against the folder of the file the option
 * was written in (the run config, or a sweep file), so a plugin always receives an absolute path and
 * a sweep job reads the same data as the config it came from.
 */
export function pathOption(names: PathOptionMeta['names'] = 'file or folder'): z.ZodString {
  const s = z.string().min(1);
  PathOptions.add(s, { names });
  return s;
}

/** The option names of `schema` marked with pathOption() (alone, or as the items of a list). */
export function pathOptionKeys(schema: z.ZodType): string[] {
  return schemaFields(schema)
    .filter(([, field]) => {
      if (fieldMeta<PathOptionMeta>(PathOptions, field)) return true;
      const list = unwrapSchema(field).find((s) => s instanceof z.ZodArray) as z.ZodArray | undefined;
      return list !== undefined && fieldMeta<PathOptionMeta>(PathOptions, list.element as z.ZodType) !== undefined;
    })
    .map(([key]) => key);
}

const absolute = (p: unknown, baseDir: string) => (typeof p === 'string' && !isAbsolute(p) ? resolve(baseDir, p) : p);

/** `options` with every path option (among `keys`, default all of them) made absolute against `baseDir`. */
export function absolutePathOptions<T extends Record<string, unknown>>(schema: z.ZodType, options: T, baseDir: string, keys?: readonly string[]): T {
  const out: Record<string, unknown> = { ...options };
  for (const key of pathOptionKeys(schema)) {
    if (!(key in out) || (keys && !keys.includes(key))) continue;
    const v = out[key];
    out[key] = Array.isArray(v) ? v.map((p) => absolute(p, baseDir)) : absolute(v, baseDir);
  }
  return out as T;
}
