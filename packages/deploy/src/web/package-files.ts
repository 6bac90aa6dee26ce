import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A folder of this package (web/, proto/): found upward from this file (src/... in tests, dist/ when built). */
export function packageFolder(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    if (existsSync(join(dir, name, '.'))) return join(dir, name);
    dir = dirname(dir);
  }
  throw new Error(`@qtdog/deploy: its ${name}/ folder is missing`);
}

/** onnxruntime-web's dist/ folder, from the installed npm package. */
export function onnxruntimeWebDist(): string {
  const require = createRequire(import.meta.url);
  // Its exports do not list package.json; the wasm entry lives in dist/.
  return dirname(require.resolve('onnxruntime-web/wasm'));
}
