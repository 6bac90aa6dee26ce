import { z } from 'zod';

/**
 * The schema under optional/default/nullable/readonly wrappers, so a marker put on `z.string()`
 * is still found after `.optional()` or `.default(...)` wrapped it (each wrapper is a new object).
 */
export function unwrapSchema(schema: z.ZodType): z.ZodType[] {
  const chain: z.ZodType[] = [schema];
  let s = schema as { _zod?: { def?: { innerType?: z.ZodType; in?: z.ZodType } } };
  for (let i = 0; i < 16; i++) {
    const inner = s._zod?.def?.innerType ?? s._zod?.def?.in;
    if (!inner) break;
    chain.push(inner);
    s = inner as typeof s;
  }
  return chain;
}

/** Top-level fields of an options schema (a zod object); none for any other schema. */
export function schemaFields(schema: z.ZodType): Array<[string, z.ZodType]> {
  return schema instanceof z.ZodObject ? Object.entries(schema.shape as Record<string, z.ZodType>) : [];
}

/** The metadata a registry holds for a field, looking through its wrappers. */
export function fieldMeta<M>(registry: { get(schema: z.ZodType): unknown }, field: z.ZodType): M | undefined {
  for (const s of unwrapSchema(field)) {
    const meta = registry.get(s);
    if (meta !== undefined) return meta as M;
  }
  return undefined;
}
