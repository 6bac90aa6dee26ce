/** A number with four significant digits at most, without trailing zeros. */
function short(v: number): string {
  return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
}

function bytes(v: number): string {
  if (v >= 2 ** 20) return `${short(v / 2 ** 20)} MiB`;
  if (v >= 2 ** 10) return `${short(v / 2 ** 10)} KiB`;
  return `${v} B`;
}

/** One result value as the summary prints it; undefined for what does not fit on a line (per-layer tables). */
function formatValue(key: string, v: unknown): string | undefined {
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return String(v);
    if (/bytes$/i.test(key)) return bytes(v);
    if (/ratio$/i.test(key)) return `${short(v)}x`;
    return short(v);
  }
  if (Array.isArray(v) && v.length <= 8 && v.every((x) => typeof x === 'number')) return `[${v.map((x) => short(x as number)).join(', ')}]`;
  return undefined;
}

/**
 * One line per evaluator with what it returned at the last checkpoint (`<name>.<key>` fields of the
 * record), e.g. `compression: floatBytes 1.42 MiB, packedBytes 327.5 KiB, ratio 4.435x, bits 7`.
 * Nested results (per-layer, per-environment tables) stay in results.jsonl.
 */
export function evaluatorSummary(record: Record<string, unknown>, evaluators: readonly string[]): string[] {
  return [...new Set(evaluators)].flatMap((name) => {
    const parts = Object.entries(record)
      .filter(([k]) => k.startsWith(`${name}.`))
      .map(([k, v]) => {
        const key = k.slice(name.length + 1);
        const text = formatValue(key, v);
        return text === undefined ? undefined : `${key} ${text}`;
      })
      .filter((p): p is string => p !== undefined);
    return parts.length > 0 ? [`${name}: ${parts.join(', ')}`] : [];
  });
}
