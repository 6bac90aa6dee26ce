import { writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureConfig, qtdog, tempDir } from './helpers';

/** Writes a variant of the fixture config next to it (so its relative plugin path still resolves). */
function variant(edit: (text: string) => string): string {
  const dir = tempDir('qtdog-cfg-');
  const text = readFileSync(fixtureConfig('stripes-erm.yaml'), 'utf8').replace('../external-plugin/index.mjs', fixtureConfig('../external-plugin/index.mjs'));
  const p = join(dir, 'bad.yaml');
  writeFileSync(p, edit(text));
  return p;
}

function expectCleanError(args: string[], pattern: RegExp): void {
  const r = qtdog(args);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(pattern);
  // One clear message: no stack trace.
  expect(r.stderr).not.toMatch(/\n\s+at /);
}

describe('qtdog run with bad configs', () => {
  it('unknown plugin name', () => {
    expectCleanError(['run', variant((t) => t.replace('type: ERM', 'type: ERMM'))], /algorithm\.type: unknown algorithm 'ERMM'\. Registered algorithms \(closest first\): ERM, [A-Za-z, ]*SmoothedERM/);
  });
  it('wrong type', () => {
    expectCleanError(['run', variant((t) => t.replace('lr: 0.003', 'lr: "fast"'))], /bad\.yaml: algorithm\.lr: expected number, found the string "fast"/);
  });
  it('missing required key', () => {
    expectCleanError(['run', variant((t) => t.replace('steps: 12, ', ''))], /bad\.yaml: train\.steps: required key is missing/);
  });
  it('negative steps', () => {
    expectCleanError(['run', variant((t) => t.replace('steps: 12', 'steps: -3'))], /bad\.yaml: train\.steps: Too small: expected number to be >0, found number -3/);
  });
  it('test environment out of range', () => {
    expectCleanError(['run', variant((t) => t.replace('testEnvs: [2]', 'testEnvs: [7]'))], /bad\.yaml: dataset\.testEnvs\[0\]: 7 is out of range: FixtureStripes has 3 environments \(0\.\.2: clean, noisy, noisier\)/);
  });
  it('YAML syntax error', () => {
    expectCleanError(['run', variant((t) => t.replace('network: { type: MNIST_CNN }', 'network: { type: MNIST_CNN'))], /bad\.yaml:\d+:\d+: YAML syntax error/);
  });
  it('a plugin rejecting its options (a quantizer layer pattern matching nothing)', () => {
    expectCleanError(
      ['run', variant((t) => t.replace('network: { type: MNIST_CNN }', 'network: { type: MNIST_CNN }\nquantizer: { type: LSQ, startStep: 2, layers: ["nope*"] }'))],
      /bad\.yaml: quantizer\.layers\[0\]: pattern 'nope\*' matches no layer of MNIST_CNN/,
    );
  });
  it('a quantizer that would never start: LSQ startStep at or past train.steps (issue 27)', () => {
    expectCleanError(
      ['run', variant((t) => t.replace('network: { type: MNIST_CNN }', 'network: { type: MNIST_CNN }\nquantizer: { type: LSQ }'))],
      /^qtdog: config error: \S*bad\.yaml: quantizer\.startStep: 2000 is not below train\.steps \(12\), so the run ends first: the weights would never be transformed \(a quantizer would leave the run in float\); set it below 12 or raise train\.steps\n$/,
    );
  });
  it('SWAD waiting for more checkpoints than the run has', () => {
    expectCleanError(
      ['run', variant((t) => t.replace('network: { type: MNIST_CNN }', 'network: { type: MNIST_CNN }\nhooks: [{ type: SWAD, nConverge: 50 }]'))],
      /bad\.yaml: hooks\[0\]\.nConverge: 50 checkpoints needed, but the run has \d+ \(train\.steps: 12, train\.checkpointFreq: \d+\): SWAD would never find the loss valley and average nothing; lower it or checkpoint more often\n$/,
    );
  });
  it('an unknown key names the closest known one, and every mistake is listed', () => {
    expectCleanError(
      ['run', variant((t) => t.replace('lr: 0.003', 'learningRate: 0.003').replace('testEnvs: [2]', 'testEnvs: [2], sise: 40'))],
      /bad\.yaml: dataset\.sise: unknown key \(did you mean size\?\)\n\S*bad\.yaml: algorithm\.learningRate: unknown key \(did you mean lr\?\)\n$/,
    );
  });
  it('a plugin file written without ./ gets the hint', () => {
    const p = variant((t) => t);
    writeFileSync(p, readFileSync(p, 'utf8').replace(/plugins: \[[^\]]*\]/, 'plugins: [plugin.mjs]'));
    writeFileSync(join(p, '../plugin.mjs'), 'export {};\n');
    expectCleanError(['run', p], /bad\.yaml: plugins\[0\]: cannot find plugin package 'plugin\.mjs' from \S+; a file there has that name: relative files need \.\/ \(write '\.\/plugin\.mjs'\)/);
  });
  it('missing config file', () => {
    expectCleanError(['run', '/no/such/config.yaml'], /\/no\/such\/config\.yaml: cannot read config file \(no such file\)/);
  });
});

describe('qtdog list', () => {
  it('prints every plugin kind with options and defaults, and JSON', () => {
    const r = qtdog(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^algorithm \(\d+\)/m);
    expect(r.stdout).toMatch(/ERM\s+\[@qtdog\/algorithms\]/);
    expect(r.stdout).toMatch(/lr: number, default 0\.001, search 10\^U\(-4\.5,-2\.5\)/);
    expect(r.stdout).toMatch(/RotatedMNIST/);
    const j = JSON.parse(qtdog(['list', '--json']).stdout);
    expect(j.network.map((p: { name: string }) => p.name)).toContain('MNIST_CNN');
    expect(Object.keys(j)).toEqual(['algorithm', 'quantizer', 'dataset', 'network', 'evaluator', 'selection', 'launcher', 'hook']);
  });
});
