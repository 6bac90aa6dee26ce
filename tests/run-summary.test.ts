// Issue 27, item 7: the end-of-run summary counts steps as the progress line does, and shows what
// the evaluators (compression among them) returned.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluatorSummary } from '../packages/cli/src/evaluator-summary';
import { fixtureConfig, qtdog, tempDir } from './helpers';

describe('evaluatorSummary', () => {
  it('prints one line per evaluator: sizes in KiB/MiB, ratios with x, short lists; nested tables stay out', () => {
    const record = {
      step: 11,
      'compression.floatBytes': 1487400,
      'compression.packedBytes': 335392,
      'compression.ratio': 4.43478,
      'compression.bits': 7,
      'compression.layers': [{ layer: 'a' }],
      'flatness.radii': [0.5, 2],
      'flatness.train': [0.0123456, 0.05],
      'flatness.perEnv': { 0: [1] },
      'flatness.quantized': true,
      env0_in_acc: 0.5,
    };
    expect(evaluatorSummary(record, ['compression', 'flatness', 'absent'])).toEqual([
      'compression: floatBytes 1.418 MiB, packedBytes 327.5 KiB, ratio 4.435x, bits 7',
      'flatness: radii [0.5, 2], train [0.01235, 0.05], quantized true',
    ]);
  });
});

describe('qtdog run: the end-of-run summary (built CLI)', () => {
  it('names steps as the progress line does and shows the compression result', () => {
    const dir = tempDir('qtdog-summary-');
    const config = join(dir, 'c.yaml');
    const text = readFileSync(fixtureConfig('stripes-erm.yaml'), 'utf8').replace('../external-plugin/index.mjs', fixtureConfig('../external-plugin/index.mjs'));
    writeFileSync(config, `${text}evaluators: [{ type: compression }]\n`);
    const r = qtdog(['run', config, '--out', join(dir, 'run')]);
    expect(r.code, r.stderr).toBe(0);
    // Progress (not a terminal: plain lines) ends at step 12/12; the summary says the same.
    expect(r.stderr).toMatch(/step 12\/12: /);
    expect(r.stdout).toContain('Test environment accuracy (last checkpoint, step 12/12): ');
    expect(r.stdout).toMatch(/Selected checkpoint \(training-domain validation\): step \d+\/12 \(results\.jsonl step \d+\)/);
    expect(r.stdout).toMatch(/Evaluators \(last checkpoint, step 12\/12\):\n {2}compression: floatBytes [\d.]+ MiB, packedBytes [\d.]+ MiB, ratio 1x, quantizedWeightRatio 1x, bits 32\n/);
  });
});
