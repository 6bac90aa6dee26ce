import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

export const ROOT = resolve(__dirname, '..');
export const fixtureConfig = (name: string) => join(ROOT, 'tests/fixtures/configs', name);
export const tempDir = (prefix = 'qtdog-test-') => mkdtempSync(join(tmpdir(), prefix));

/** Runs the built `qtdog` command (npm test builds the packages first). */
export function qtdog(args: string[], cwd = ROOT): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'packages/cli/dist/bin.js'), ...args], { cwd, encoding: 'utf8', timeout: 300_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
