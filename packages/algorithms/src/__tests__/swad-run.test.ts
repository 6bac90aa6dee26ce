import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readResults, runExperiment } from '@qtdog/core';
import { networksModule } from '@qtdog/networks';
import { describe, expect, it } from 'vitest';
import { algorithmsModule } from '../index.js';

// The SWAD hook inside a real run: the repository's stripes fixture dataset, MNIST_CNN, ERM, wasm.
const fixturePlugin = fileURLToPath(new URL('../../../../tests/fixtures/external-plugin/index.mjs', import.meta.url));

describe('SWAD in a training run', () => {
  it('averages, writes its evaluation to final.json and its weights to checkpoints/swad', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'qtdog-swad-'));
    const config = join(dir, 'swad.yaml');
    writeFileSync(
      config,
      [
        `plugins: [${JSON.stringify(fixturePlugin)}]`,
        'dataset: { type: FixtureStripes, testEnvs: [2], size: 40 }',
        'network: { type: MNIST_CNN }',
        'algorithm: { type: ERM, lr: 0.003, batchSize: 8 }',
        // nConverge 1: the valley starts at the first checkpoint, so the average is exercised.
        'hooks: [{ type: SWAD, nConverge: 1, nTolerance: 2, toleranceRatio: 10 }]',
        'train: { steps: 9, checkpointFreq: 2, backend: wasm, workers: 1, evalBatchSize: 32 }',
      ].join('\n'),
    );
    const out = join(dir, 'run');
    const result = await runExperiment(config, { modules: [networksModule, algorithmsModule], outDir: out });
    const swad = JSON.parse(readFileSync(join(out, 'final.json'), 'utf8')).SWAD;
    expect(swad).toMatchObject({ converged: true, valleyEnded: false, startStep: 0, endStep: 8 });
    // Checkpoints at steps 0, 2, 4, 6, 8: five segments, all inside a valley this wide.
    expect(swad.segments).toBe(5);
    for (const e of [0, 1, 2]) expect(swad[`env${e}_in_acc`]).toBeGreaterThanOrEqual(0);
    expect(result.final.SWAD).toEqual(swad);
    expect(existsSync(join(out, 'checkpoints/swad/manifest.json'))).toBe(true);
    const records = readResults(join(out, 'results.jsonl'));
    expect(new Set(records.map((r) => r.numTensors)).size).toBe(1);
  });
});
