import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readResults, runExperiment } from '@qtdog/core';
import { algorithmsModule } from '@qtdog/algorithms';
import { datasetsModule, IMAGE_FOLDER_PRESETS, writeImageTree } from '@qtdog/datasets';
import { quantizersModule } from '@qtdog/quantizers';
import { networksModule } from '../networks-module.js';

const modules = [datasetsModule, networksModule, algorithmsModule, quantizersModule];
let dir: string;
let root: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'qtdog-pacs-run-'));
  root = join(dir, 'PACS');
  const pacs = IMAGE_FOLDER_PRESETS.find((p) => p.name === 'PACS')!;
  // 4 environments x 7 classes x 2 images (one PNG, one JPEG), 40x30 pixels.
  await writeImageTree(root, { environments: pacs.environments, classes: pacs.classes!, perClass: 2, width: 40 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(name: string, extra = ''): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(
    path,
    `seed: 0
trialSeed: 0
dataset: { type: PACS, root: PACS, imageSize: 32, testEnvs: [3] }
network: { type: ResNet18 }
algorithm: { type: ERM, lr: 1.0e-3, batchSize: 4 }
${extra}train: { steps: 5, checkpointFreq: 2, backend: wasm, workers: 1, evalBatchSize: 16 }
`,
  );
  return path;
}

describe('ERM with ResNet-18 on a PACS-shaped image folder (acceptance)', () => {
  it('trains a few steps through runExperiment and writes results.jsonl with every environment, flat tensor counts, done', async () => {
    const out = join(dir, 'run-erm');
    const r = await runExperiment(config('erm'), { modules, outDir: out });
    expect(r.backend).toBe('wasm');
    expect(r.environments).toEqual(['art_painting', 'cartoon', 'photo', 'sketch']);
    const records = readResults(join(out, 'results.jsonl'));
    expect(records.map((x) => x.step)).toEqual([0, 2, 4]);
    for (const rec of records) {
      for (const e of [0, 1, 2, 3]) {
        for (const part of ['in', 'out']) {
          const acc = rec[`env${e}_${part}_acc`] as number;
          expect(acc).toBeGreaterThanOrEqual(0);
          expect(acc).toBeLessThanOrEqual(1);
          expect(Number.isFinite(rec[`env${e}_${part}_loss`] as number)).toBe(true);
        }
      }
      expect(Number.isFinite(rec.loss as number)).toBe(true);
      expect((rec.config as { dataset: { type: string } }).dataset.type).toBe('PACS');
    }
    expect(new Set(records.map((x) => x.numTensors)).size).toBe(1);
    expect(existsSync(join(out, 'done'))).toBe(true);
    expect(existsSync(join(out, 'checkpoints/last/manifest.json'))).toBe(true);
  });

  it('with LSQ switched on mid-run, quantization reaches all 20 convolutions of ResNet-18 (stem and downsample included)', async () => {
    const out = join(dir, 'run-lsq');
    const logs: string[] = [];
    const r = await runExperiment(config('lsq', 'quantizer: { type: LSQ, bits: 7, startStep: 2 }\n'), { modules, outDir: out, log: (m) => logs.push(m) });
    expect(r.records.map((x) => [x.step, x.quantized])).toEqual([
      [0, false],
      [2, true],
      [4, true],
    ]);
    const manifest = JSON.parse(readFileSync(join(out, 'checkpoints/last/manifest.json'), 'utf8')) as { tensors: Array<{ name: string }> };
    const stepSizes = manifest.tensors.map((t) => t.name).filter((n) => /conv1|conv2|downsample/.test(n) && !/weight$|gamma|beta|running/.test(n));
    expect(stepSizes.length).toBe(20);
    expect(stepSizes.some((n) => n.startsWith('featurizer.conv1.'))).toBe(true);
    expect(stepSizes.filter((n) => n.includes('downsample.0')).length).toBe(3);
  });
});
