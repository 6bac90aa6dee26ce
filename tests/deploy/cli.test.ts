// The built CLI with an exported ONNX model: export (and its refusal of unfinished runs), predict
// on PNG files, evaluate against the trained run's own accuracies, and one-line errors on bad input.
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { readResults } from '@qtdog/core';
import { QtdogModel } from '@qtdog/deploy';
import { qtdog, tempDir } from '../helpers';
import { fixtureRunConfig } from '../quantization/fixture-runs';

describe('qtdog export --format onnx, predict, evaluate (built CLI)', () => {
  let runDir: string;
  let config: string;
  let model: string;
  const dir = tempDir();

  beforeAll(() => {
    config = fixtureRunConfig({ quantizer: { type: 'LSQ', bits: 7, startStep: 2 }, steps: 6, checkpointFreq: 5 });
    runDir = join(dir, 'run');
    const r = qtdog(['run', config, '--out', runDir]);
    expect(r.code, r.stderr).toBe(0);
    model = join(dir, 'model.onnx');
    const e = qtdog(['export', runDir, '--checkpoint', 'last', '--format', 'onnx', '--out', model]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stdout).toMatch(/as ONNX \(weight-only\)/);
    expect(e.stdout).toContain('featurizer.conv1 7-bit as int8');
  });

  it('refuses an unfinished run unless --allow-unfinished, and says when no checkpoint exists yet', () => {
    const unfinished = join(dir, 'unfinished');
    cpSync(runDir, unfinished, { recursive: true });
    rmSync(join(unfinished, 'done'));
    const refused = qtdog(['export', unfinished, '--format', 'onnx']);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toBe(`qtdog: config error: ${unfinished} is an unfinished run (no 'done' file; last checkpoint at step 5 of 6): pass --allow-unfinished to export its current checkpoint anyway`);
    const allowed = qtdog(['export', unfinished, '--format', 'onnx', '--allow-unfinished']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(allowed.stderr).toContain('warning:');
    rmSync(join(unfinished, 'checkpoints'), { recursive: true });
    rmSync(join(unfinished, 'results.jsonl'));
    const none = qtdog(['export', unfinished, '--allow-unfinished']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no checkpoint exists yet');
    expect(none.stderr).not.toContain('saveCheckpoints');
  });

  it('predicts PNG files as ONNX Runtime does on the same pixels', async () => {
    const m = await QtdogModel.load(model);
    const files: string[] = [];
    const inputs: Float32Array[] = [];
    for (let i = 0; i < 6; i++) {
      const bytes = Uint8Array.from({ length: 64 }, (_, k) => ((k % 8) * 32 + i * 7 + (k >> 3) * (i % 3)) & 0xff);
      const file = join(dir, `img${i}.png`);
      await sharp(bytes, { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(file);
      files.push(file);
      inputs.push(Float32Array.from(bytes, (b) => b / 255));
    }
    const x = new Float32Array(6 * 64);
    inputs.forEach((v, i) => x.set(v, i * 64));
    const expected = m.predictionsOf(await m.logits(x, 6));
    await m.release();
    const p = qtdog(['predict', model, ...files, '--json']);
    expect(p.code, p.stderr).toBe(0);
    const got = JSON.parse(p.stdout) as Array<{ className: string; probability: number }>;
    expect(got.map((g) => g.className)).toEqual(expected.map((e) => e.className));
    got.forEach((g, i) => expect(g.probability).toBeCloseTo(expected[i]!.probability, 5));
  });

  it("evaluates to the trained run's own accuracies at that checkpoint", () => {
    const e = qtdog(['evaluate', model, config, '--json']);
    expect(e.code, e.stderr).toBe(0);
    const acc = JSON.parse(e.stdout) as Array<{ env: number; inAcc: number; outAcc: number; test: boolean }>;
    const last = readResults(join(runDir, 'results.jsonl')).at(-1)!;
    expect(last.step).toBe(5);
    expect(acc.find((a) => a.test)?.env).toBe(2);
    for (const a of acc) {
      expect(a.inAcc).toBeCloseTo(last[`env${a.env}_in_acc`] as number, 6);
      expect(a.outAcc).toBeCloseTo(last[`env${a.env}_out_acc`] as number, 6);
    }
  });

  it('export --help states the --base-dir default the code uses (the folder recorded in source.json)', () => {
    const h = qtdog(['export', '--help']);
    expect(h.code).toBe(0);
    expect(h.stdout.replace(/\s+/g, ' ')).toContain("(default: the folder recorded in the run's source.json, else the current folder)");
  });

  it('ensemble --export onnx writes one model that qtdog predict reads', async () => {
    const file = join(dir, 'ensemble.onnx');
    const e = qtdog(['ensemble', runDir, runDir, '--checkpoint', 'last', '--export', 'onnx', '--out', file]);
    expect(e.code, e.stderr).toBe(0);
    expect(e.stderr).toContain(`Exported the ensemble of 2 as one ONNX graph (weight-only, mean of the members' logits) to ${file}`);
    const img = join(dir, 'ens.png');
    await sharp(new Uint8Array(64).fill(200), { raw: { width: 8, height: 8, channels: 1 } }).png().toFile(img);
    const p = qtdog(['predict', file, img, '--json']);
    expect(p.code, p.stderr).toBe(0);
    const single = qtdog(['predict', model, img, '--json']);
    // Two copies of one member average to that member.
    expect(JSON.parse(p.stdout)[0].probability).toBeCloseTo(JSON.parse(single.stdout)[0].probability, 5);
  });

  it('prints one clear line for a corrupt model, a wrong image size and a file that is not an image', async () => {
    const corrupt = join(dir, 'corrupt.onnx');
    writeFileSync(corrupt, readFileSync(model).subarray(0, 5000));
    const big = join(dir, 'big.png');
    await sharp(new Uint8Array(100), { raw: { width: 10, height: 10, channels: 1 } }).png().toFile(big);
    const text = join(dir, 'notes.png');
    writeFileSync(text, 'not pixels\n');
    const cases: Array<[string[], string]> = [
      [['predict', corrupt, big], `qtdog: data error: ${corrupt}: not a valid ONNX model (`],
      [['predict', model, big], `qtdog: data error: ${big}: the image is 10x10; this model takes 8x8 images (its dataset is evaluated without resizing)`],
      [['predict', model, text], `qtdog: data error: ${text}: not an image (`],
    ];
    for (const [args, start] of cases) {
      const r = qtdog(args);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr.trim().startsWith(start), r.stderr).toBe(true);
    }
  });
});
