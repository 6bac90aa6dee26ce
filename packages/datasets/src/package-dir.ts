import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { DataError } from '@qtdog/core';

/**
 * Where Node module resolution may start for this code. The ESM build has `import.meta.url`; tsup's
 * CJS build empties `import.meta` but has `__filename`; the working directory is the last resort
 * (a bundled or copied file may sit outside any node_modules tree).
 */
export function defaultResolutionBases(): string[] {
  const bases: string[] = [];
  const metaUrl = (import.meta as { url?: unknown }).url;
  if (typeof metaUrl === 'string') bases.push(metaUrl);
  if (typeof __filename !== 'undefined') bases.push(__filename);
  bases.push(`${process.cwd()}/`);
  return bases;
}

/**
 * The folder of an installed package, found from the first base that resolves it. Resolves
 * `<name>/package.json` so packages without a usable `main` still resolve.
 */
export function resolvePackageDir(name: string, bases: readonly string[] = defaultResolutionBases()): string {
  const tried: string[] = [];
  for (const base of bases) {
    try {
      return dirname(createRequire(base).resolve(`${name}/package.json`));
    } catch {
      tried.push(base);
    }
  }
  throw new DataError(`cannot find the npm package '${name}' (looked from ${tried.join(', ')}); install it or pass its folder explicitly`);
}
