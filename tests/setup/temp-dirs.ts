import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

// Each test file gets a TMPDIR of its own, removed when the file ends, so the temporary folders
// that tests and the processes they start make with mkdtemp(tmpdir()) do not pile up in /tmp
// (hundreds per suite run). The original base is kept in the environment because a forked test
// worker may run several files. QTDOG_KEEP_TEST_TMP=1 keeps the folders for a look afterwards.
const base = (process.env.QTDOG_TEST_TMP_BASE ??= tmpdir());
const dir = mkdtempSync(join(base, 'qtdog-vitest-'));
process.env.TMPDIR = dir;

afterAll(() => {
  if (process.env.QTDOG_KEEP_TEST_TMP !== '1') rmSync(dir, { recursive: true, force: true });
});
