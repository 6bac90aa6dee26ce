// examples/custom-plugin, used the way a user would: its config run by the built `qtdog` command
// (build first: npx nx run-many -t build), its module listed with `qtdog list --plugins`.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readResults } from '@qtdog/core';
import { qtdog, qtdogAsync, ROOT, tempDir } from '../helpers';

const EXAMPLE = join(ROOT, 'examples/custom-plugin');
const CONFIG = join(EXAMPLE, 'config.yaml');
const configText = readFileSync(CONFIG, 'utf8');
const config = parse(configText) as {
  dataset: { environments: string[] };
  quantizer: { startStep: number; bits: number };
  train: { steps: number; checkpointFreq: number };
};
const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('examples/custom-plugin: LabelSmoothingERM + SevenSegmentDigits + LSQ (built CLI)', () => {
  let out: string;
  let run: Awaited<ReturnType<typeof qtdogAsync>>;
  let records: Record<string, unknown>[];

  beforeAll(async () => {
    out = join(tempDir('qtdog-example-'), 'run');
    // Asynchronous: the worker stays responsive however long the run takes on a loaded machine.
    run = await qtdogAsync(['run', CONFIG, '--out', out]);
    records = existsSync(join(out, 'results.jsonl')) ? readResults(join(out, 'results.jsonl')) : [];
  });

  it('trains the example config to the end, with finite accuracies for every environment', () => {
    expect(run.code, run.stderr).toBe(0);
    expect(existsSync(join(out, 'done'))).toBe(true);
    const { steps, checkpointFreq } = config.train;
    // DomainBed's checkpoints: step 0, every checkpointFreq steps, and the last step.
    const expected = [...Array(steps).keys()].filter((s) => s % checkpointFreq === 0 || s === steps - 1);
    expect(records.map((r) => r.step)).toEqual(expected);
    const envs = config.dataset.environments.length;
    for (const r of records) {
      for (let e = 0; e < envs; e++) {
        for (const split of ['in', 'out']) {
          const acc = r[`env${e}_${split}_acc`] as number;
          expect(Number.isFinite(acc), `step ${r.step as number} env${e}_${split}_acc = ${acc}`).toBe(true);
          expect(acc).toBeGreaterThanOrEqual(0);
          expect(acc).toBeLessThanOrEqual(1);
          expect(Number.isFinite(r[`env${e}_${split}_loss`] as number)).toBe(true);
        }
      }
      expect(r[`env${envs}_in_acc`]).toBeUndefined();
      // The algorithm's loss terms: the smoothed loss and the plain cross-entropy it reports next to it.
      expect(Number.isFinite(r.loss as number) && Number.isFinite(r.nll as number)).toBe(true);
      expect(r.backend).toBe('wasm');
    }
    expect(run.stdout).toMatch(/Test environment accuracy \(selected\): italic: \d+\.\d\d%/);
  });

  it("records the resolved config: the example's algorithm and dataset with defaults filled in, and LSQ", () => {
    const saved = readJson(join(out, 'config.json'));
    expect(saved.plugins).toEqual(['./index.mjs']);
    expect(saved.algorithm).toEqual({ type: 'LabelSmoothingERM', options: { lr: 0.003, batchSize: 8, weightDecay: 0, smoothing: 0.1 } });
    expect(saved.dataset).toMatchObject({
      type: 'SevenSegmentDigits',
      options: { environments: ['thin', 'bold', 'italic', 'inverted'], examplesPerDomain: 120, imageSize: 16, noise: 0.1, seed: 0 },
      testEnvs: [2],
    });
    expect(saved.network.type).toBe('MNIST_CNN');
    expect(saved.quantizer).toEqual({ type: 'LSQ', options: { bits: 7, startStep: config.quantizer.startStep, perChannel: true, quantizeActivations: false, activationBits: 8 } });
    // Every results line carries the same config.
    expect((records.at(-1)!.config as { algorithm: { type: string } }).algorithm.type).toBe('LabelSmoothingERM');
  });

  it('switches LSQ on at startStep: float before, quantized after, step sizes in the checkpoint, 7-bit export', () => {
    const { startStep, bits } = config.quantizer;
    const before = records.filter((r) => (r.step as number) < startStep);
    const after = records.filter((r) => (r.step as number) >= startStep);
    expect(before.length).toBeGreaterThan(0);
    expect(after.length).toBeGreaterThan(0);
    expect(before.every((r) => r.quantized === false)).toBe(true);
    expect(after.every((r) => r.quantized === true)).toBe(true);
    // The quantizer's learned step sizes are network parameters, saved with the weights (one per conv
    // layer; MNIST_CNN's classifier stays in float by default).
    const manifest = readJson(join(out, 'checkpoints/last/manifest.json'));
    expect(manifest.meta).toMatchObject({ step: config.train.steps - 1, network: 'MNIST_CNN', quantizer: 'LSQ' });
    expect(manifest.tensors.map((t: { name: string }) => t.name).filter((n: string) => n.endsWith('.lsq_step'))).toEqual(
      [1, 2, 3, 4].map((i) => `featurizer.conv${i}.lsq_step`),
    );
    // The run exports as packed 7-bit weights; its source.json says ./index.mjs is relative to the example's folder.
    const exported = qtdog(['export', out, '--checkpoint', 'last']);
    expect(exported.code, exported.stderr).toBe(0);
    for (let i = 1; i <= 4; i++) expect(exported.stdout).toContain(`featurizer.conv${i}.weight (${bits} bits)`);
    expect(exported.stdout).toMatch(/ratio [34]\.\d\dx/);
  });

  it('qtdog list --plugins shows both plugins with their options, defaults and search distributions', () => {
    const text = qtdog(['list', '--plugins', './examples/custom-plugin/index.mjs']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^ {2}LabelSmoothingERM {2}\[qtdog-example-custom-plugin\] {2}ERM with label-smoothed cross-entropy/m);
    expect(text.stdout).toMatch(/^ {2}SevenSegmentDigits {2}\[qtdog-example-custom-plugin\] {2}Seven-segment digits/m);
    expect(text.stdout).toContain('smoothing: number, default 0.1, search U(0,0.2)');
    expect(text.stdout).toContain('environments: string[], default ["thin","bold","italic","inverted"]');
    // The built-ins are still there: the module adds plugins, it replaces nothing.
    expect(text.stdout).toMatch(/^ {2}ERM {2}\[@qtdog\/algorithms\]/m);

    const json = JSON.parse(qtdog(['list', '--json', '--plugins', join(EXAMPLE, 'index.mjs')]).stdout);
    const algo = json.algorithm.find((p: { name: string }) => p.name === 'LabelSmoothingERM');
    expect(algo.source).toBe('qtdog-example-custom-plugin');
    expect(algo.options.map((o: { name: string }) => o.name)).toEqual(['lr', 'batchSize', 'weightDecay', 'smoothing']);
    const ds = json.dataset.find((p: { name: string }) => p.name === 'SevenSegmentDigits');
    expect(ds.options.map((o: { name: string; default: unknown }) => [o.name, o.default])).toEqual([
      ['environments', ['thin', 'bold', 'italic', 'inverted']],
      ['examplesPerDomain', 256],
      ['imageSize', 16],
      ['noise', 0.1],
      ['seed', 0],
    ]);
  });

  it("expands a sweep whose random-search draws sample the algorithm's hparams (validated by its schema)", () => {
    const dir = tempDir('qtdog-example-sweep-');
    const sweep = join(dir, 'sweep.yaml');
    // No smoothing, lr or weightDecay pinned: draws 1 and 2 sample them from the plugin's hparams,
    // and every job is validated by the plugins' schemas before the dry run lists it.
    writeFileSync(
      sweep,
      [
        'base:',
        `  plugins: [${JSON.stringify(join(EXAMPLE, 'index.mjs'))}]`,
        '  dataset: { type: SevenSegmentDigits, examplesPerDomain: 40 }',
        '  network: { type: MNIST_CNN }',
        '  algorithm: { batchSize: 8 }',
        '  train: { steps: 2, checkpointFreq: 1, backend: wasm }',
        'algorithms: [LabelSmoothingERM]',
        'testEnvs: [[2]]',
        'hparams: { draws: 3, seed: 0 }',
        'trials: 1',
      ].join('\n'),
    );
    const r = qtdog(['sweep', sweep, '--dry-run', '--out', join(dir, 'out')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/3 jobs \(0 done, 3 to run/);
    expect(r.stdout.match(/LabelSmoothingERM.*SevenSegmentDigits/g)).toHaveLength(3);
  });

  it("rejects a bad value of the algorithm's own option with one config error line naming the key", () => {
    const dir = tempDir('qtdog-example-bad-');
    // Written elsewhere, so the plugin path becomes absolute.
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, configText.replace('[./index.mjs]', `[${JSON.stringify(join(EXAMPLE, 'index.mjs'))}]`).replace('smoothing: 0.1', 'smoothing: 1.5'));
    const badOut = join(dir, 'out');
    mkdirSync(badOut);
    const r = qtdog(['run', bad, '--out', badOut]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/qtdog: config error: .*bad\.yaml: algorithm\.smoothing: Too big: expected number to be <1, found number 1\.5/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    // Validated before anything runs: nothing was written.
    expect(existsSync(join(badOut, 'config.json'))).toBe(false);
  });

  it('is a standalone ESM package with peer dependencies at the versions @qtdog/core uses', () => {
    const pkg = readJson(join(EXAMPLE, 'package.json'));
    const core = readJson(join(ROOT, 'packages/core/package.json'));
    const coreDeps = { ...core.dependencies, ...core.peerDependencies };
    expect(pkg).toMatchObject({ name: 'qtdog-example-custom-plugin', type: 'module', private: true });
    expect(pkg.peerDependencies).toEqual({
      '@qtdog/core': `^${core.version}`,
      '@tensorflow/tfjs-core': coreDeps['@tensorflow/tfjs-core'],
      zod: coreDeps.zod,
    });
    expect(pkg.dependencies).toBeUndefined();
    // Not a workspace: the root's workspaces do not reach it.
    expect(readJson(join(ROOT, 'package.json')).workspaces).toEqual(['packages/*']);
  });
});
