import { mkdtempSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { LocalLauncher } from './local';
import type { LaunchJob } from './launcher';

// A job that records the cores it was given (QTDOG_CORES) and writes its done file.
function job(dir: string, id: string): LaunchJob {
  const out = join(dir, `${id}.cores`);
  const done = join(dir, `${id}.done`);
  const script = `require('fs').writeFileSync(${JSON.stringify(out)}, String(process.env.QTDOG_CORES)); require('fs').writeFileSync(${JSON.stringify(done)}, '')`;
  return { id, label: id, command: process.execPath, args: ['-e', script], logFile: join(dir, `${id}.log`), doneFile: done };
}

describe('local launcher: cores per job', () => {
  it('gives each of the jobs running side by side its share of the cores (QTDOG_CORES)', async () => {
    const saved = process.env.QTDOG_CORES;
    delete process.env.QTDOG_CORES;
    try {
      for (const parallel of [1, 2]) {
        const dir = mkdtempSync(join(tmpdir(), 'qtdog-cores-'));
        const jobs = [job(dir, 'a'), job(dir, 'b')];
        const outcomes = await new LocalLauncher(parallel).launch(jobs);
        expect(outcomes.every((o) => o.ok)).toBe(true);
        const expected = String(Math.max(1, Math.floor(availableParallelism() / parallel)));
        for (const j of jobs) expect(readFileSync(join(dir, `${j.id}.cores`), 'utf8')).toBe(expected);
      }
    } finally {
      if (saved !== undefined) process.env.QTDOG_CORES = saved;
    }
  });
});
