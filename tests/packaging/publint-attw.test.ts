// Every package's packed tarball passes publint (strict) and Are The Types Wrong (node16 profile):
// tools/packaging/check-packages.mjs does the packing and checking; this runs it as CI does.
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, runAsync } from '../helpers';

it('every package passes publint and attw on its packed tarball', async () => {
  const r = await runAsync(process.execPath, [join(ROOT, 'tools/packaging/check-packages.mjs')]);
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  const names = r.stdout.split('\n').filter((l) => l.startsWith('ok   @qtdog/'));
  expect(names.length).toBeGreaterThanOrEqual(8);
  expect(r.stdout).toContain('every package passes publint (strict) and attw (node16 profile)');
}, 300_000);
