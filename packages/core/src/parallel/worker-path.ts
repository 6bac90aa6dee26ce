import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

declare const __dirname: string | undefined;

/**
 * Where the built worker entry lives: beside the bundle (dist/gradient-worker.js) when running from
 * the built package, or in the package's dist when running from sources (tests).
 */
export function gradientWorkerPath(): string {
  let here: string;
  if (typeof __dirname === 'string') here = __dirname;
  else here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'gradient-worker.js'), join(here, '../../dist/gradient-worker.js'), join(here, '../dist/gradient-worker.js')];
  const found = candidates.find((c) => existsSync(c));
  if (!found) throw new Error(`cannot find the data-parallel worker script (looked in ${candidates.join(', ')}); build @qtdog/core first`);
  return found;
}
