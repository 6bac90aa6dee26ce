import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isQtdogError } from '@qtdog/core';
import { ensembleRows, ensemblesToMarkdown, readSweepEnsembles, type SweepEnsembles } from '@qtdog/evaluation';
import { tempDir } from '../helpers';

describe("a sweep's ensembles.json", () => {
  it('is absent (null), read, or refused in one line that names the file and the fix', () => {
    const dir = tempDir();
    expect(readSweepEnsembles(dir)).toBeNull();
    writeFileSync(join(dir, 'ensembles.json'), '{"format": "qtdog-ensembles/1", "groups": [');
    let err: unknown;
    try {
      readSweepEnsembles(dir);
    } catch (e) {
      err = e;
    }
    expect(isQtdogError(err)).toBe(true);
    expect((err as Error).message).toMatch(/ensembles\.json: not valid JSON .*re-run qtdog report --ensembles$/);
    expect((err as Error).message).not.toContain('\n');
    writeFileSync(join(dir, 'ensembles.json'), '{"format": "other"}');
    expect(() => readSweepEnsembles(dir)).toThrow(/not a qtdog ensembles file/);
  });

  it('renders the members\' mean and DomainBed standard error, the selected and best members and the gain', () => {
    const e: SweepEnsembles = {
      format: 'qtdog-ensembles/1',
      sweep: 's',
      groups: [
        {
          label: 'ERM+QT-DoG',
          dataset: 'D',
          testEnvs: [0],
          draw: 0,
          checkpoint: 'best',
          members: [
            { id: 'a', trialSeed: 0, step: 10, trainDomainValAcc: 0.9, packedBytes: 1024, testAcc: [0.5] },
            { id: 'b', trialSeed: 1, step: 10, trainDomainValAcc: 0.8, packedBytes: 1024, testAcc: [0.7] },
          ],
          ensemble: { testAcc: [0.65], packedBytes: 2048, float32Bytes: 4096, sizeVsOneFloatModel: 0.5 },
        },
      ],
    };
    // Mean 60.0, population std 10 / sqrt(2) = 7.1; selected = trial 0 (best validation), oracle = trial 1.
    expect(ensemblesToMarkdown(ensembleRows(e, () => 'up'))).toContain('| ERM+QT-DoG | 0 (up) | 2 | 60.0 ± 7.1 | 50.0 | 70.0 | 65.0 | +5.0 | 2 KiB | 0.50x |');
  });
});
