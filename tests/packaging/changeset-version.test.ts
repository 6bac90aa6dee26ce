// `changeset version` in a dry run: on a copy of the workspace manifests and .changeset/, never on
// the checkout. The fixed group moves every @qtdog package to the same new version and writes each
// a CHANGELOG; nothing is published.
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT, runAsync, tempDir } from '../helpers';

it('changeset version bumps the fixed @qtdog group together and writes changelogs (dry run on a copy)', async () => {
  const dir = tempDir('qtdog-changeset-');
  cpSync(join(ROOT, 'package.json'), join(dir, 'package.json'));
  cpSync(join(ROOT, '.changeset'), join(dir, '.changeset'), { recursive: true });
  const packages = readdirSync(join(ROOT, 'packages'));
  for (const p of packages) {
    mkdirSync(join(dir, 'packages', p), { recursive: true });
    cpSync(join(ROOT, 'packages', p, 'package.json'), join(dir, 'packages', p, 'package.json'));
  }
  const before = JSON.parse(readFileSync(join(ROOT, 'packages/core/package.json'), 'utf8')).version as string;
  const pending = readdirSync(join(dir, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
  expect(pending.length, 'a changeset for this round is in .changeset/').toBeGreaterThan(0);
  // changesets asks git for nothing when commit is false, but it wants a repository to exist.
  await runAsync('git', ['init', '-q'], { cwd: dir });
  const r = await runAsync(process.execPath, [join(ROOT, 'node_modules/@changesets/cli/bin.js'), 'version'], { cwd: dir });
  expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
  const versions = packages.map((p) => JSON.parse(readFileSync(join(dir, 'packages', p, 'package.json'), 'utf8')).version as string);
  expect(new Set(versions).size).toBe(1);
  expect(versions[0]).not.toBe(before);
  for (const p of packages) {
    const log = readFileSync(join(dir, 'packages', p, 'CHANGELOG.md'), 'utf8');
    expect(log).toContain(`## ${versions[0]}`);
  }
  // Internal dependencies follow the new version; the changesets were consumed.
  const cli = JSON.parse(readFileSync(join(dir, 'packages/cli/package.json'), 'utf8'));
  expect(cli.dependencies['@qtdog/core']).toBe(`^${versions[0]}`);
  expect(pending.every((f) => !existsSync(join(dir, '.changeset', f)))).toBe(true);
  // The checkout itself is untouched.
  expect(JSON.parse(readFileSync(join(ROOT, 'packages/core/package.json'), 'utf8')).version).toBe(before);
}, 120_000);
