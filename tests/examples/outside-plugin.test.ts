// Issue 27, item 2: a plugin developed outside the repository, exactly as docs/plugins.md says: the
// shell block after `<!-- outside-plugin-steps -->` runs as written in a temporary folder, with
// QTDOG pointing at this checkout (build first: npx nx run-many -t build).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readResults } from '@qtdog/core';
import { ROOT, runAsync, tempDir } from '../helpers';

/** The documented steps: the first sh block after the marker in docs/plugins.md. */
function documentedSteps(): string {
  const doc = readFileSync(join(ROOT, 'docs/plugins.md'), 'utf8');
  const at = doc.indexOf('<!-- outside-plugin-steps -->');
  expect(at, 'docs/plugins.md has the outside-plugin-steps marker').toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(doc.slice(at));
  return block![1]!;
}

describe('a plugin outside the repository, from the documented steps (built CLI)', () => {
  it('scaffolds it, installs its one dependency, passes its own test, and trains it with qtdog run', async () => {
    const steps = documentedSteps();
    expect(steps).toMatch(/^QTDOG=/);
    // The one line that differs on every machine: where the checkout is.
    const script = steps.replace(/^QTDOG=.*$/m, `QTDOG=${JSON.stringify(ROOT)}`);
    const work = tempDir('qtdog-outside-plugin-');
    const r = await runAsync('bash', ['-euo', 'pipefail', '-c', script], {
      cwd: work,
      env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
    });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.code, out).toBe(0);
    const plugin = join(work, 'my-plugin');
    // One dependency, linked from the checkout: the plugin imports z and tf from @qtdog/core only.
    const pkg = JSON.parse(readFileSync(join(plugin, 'package.json'), 'utf8'));
    expect(Object.keys(pkg.devDependencies)).toEqual(['@qtdog/core']);
    expect(pkg.devDependencies['@qtdog/core']).toMatch(/^file:.*packages\/core$/);
    expect(readFileSync(join(plugin, 'my-plugin.mjs'), 'utf8')).not.toMatch(/from '(zod|@tensorflow\/tfjs-core)'/);
    // npm test (node --test) passed both of the scaffold's tests.
    expect(out).toMatch(/# pass 2\b/);
    expect(out).toMatch(/# fail 0\b/);
    // qtdog run trained the plugin's algorithm to the end.
    const run = join(plugin, 'runs/try');
    expect(existsSync(join(run, 'done')), out).toBe(true);
    const records = readResults(join(run, 'results.jsonl'));
    expect(records.at(-1)!.step).toBe(19);
    expect((records[0]!.config as { algorithm: { type: string } }).algorithm.type).toBe('MyPlugin');
    expect(Number.isFinite(records.at(-1)!.loss as number)).toBe(true);
  }, 120_000);

  it('refuses a folder that is not empty, and a name it cannot turn into a package', async () => {
    const work = tempDir('qtdog-outside-plugin-');
    const cli = join(ROOT, 'packages/cli/dist/bin.js');
    expect((await runAsync(process.execPath, [cli, 'new', 'plugin', 'ok-name'], { cwd: work })).code).toBe(0);
    const again = await runAsync(process.execPath, [cli, 'new', 'plugin', 'ok-name'], { cwd: work });
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`qtdog: run error: new plugin: ${join(work, 'ok-name')} already exists and is not empty; choose another name or --dir\n`);
    const bad = await runAsync(process.execPath, [cli, 'new', 'plugin', 'Bad Name'], { cwd: work });
    expect(bad.stderr).toMatch(/^qtdog: run error: new plugin: 'Bad Name' is not a package name/);
  });
});
