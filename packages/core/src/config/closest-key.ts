import { distance } from 'fastest-levenshtein';

/** The words of a key: camelCase, snake_case and kebab-case split, lower case. */
function words(key: string): string[] {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s_-]+/)
    .filter(Boolean)
    .map((w) => w.toLowerCase());
}

/** `learningRate` -> `lr`: the first letters of a key's words (only for keys of two words or more). */
function initials(key: string): string | undefined {
  const w = words(key);
  return w.length > 1 ? w.map((x) => x[0]).join('') : undefined;
}

/**
 * The known key a mistyped one most likely meant: same letters in another case, an abbreviation
 * (`learningRate` for `lr`, or the other way round), a small typo (edit distance up to a third of the
 * key's length, rounded up; 1 for keys shorter than 4), or one containing the other. Undefined when nothing is close.
 */
export function closestKey(unknown: string, known: readonly string[]): string | undefined {
  const lower = unknown.toLowerCase();
  const sameLetters = known.find((k) => k.toLowerCase().replace(/[_-]/g, '') === lower.replace(/[_-]/g, ''));
  if (sameLetters) return sameLetters;
  const abbreviated = known.find((k) => initials(unknown) === k.toLowerCase() || initials(k) === lower);
  if (abbreviated) return abbreviated;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const k of known) {
    const d = distance(lower, k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  if (best !== undefined && bestDistance <= (unknown.length < 4 ? 1 : Math.ceil(unknown.length / 3))) return best;
  if (lower.length >= 3) return known.find((k) => k.length >= 3 && (k.toLowerCase().includes(lower) || lower.includes(k.toLowerCase())));
  return undefined;
}
