// The packages as a user gets them: `npm pack` every workspace package, install chosen subsets into
// fresh projects outside the monorepo (from the tarballs, the rest from the npm registry), and run a
// short composition from a config file there through the `qtdog` bin, `import` and `require`.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runAsync, tempDir } from '../helpers';

const work = tempDir('qtdog-packaging-');
const tarballs = join(work, 'tarballs');
const tgz = (name: string) => join(tarballs, `qtdog-${name}-${JSON.parse(readFileSync(join(ROOT, 'packages', name, 'package.json'), 'utf8')).version}.tgz`);

async function sh(cmd: string, args: string[], cwd: string) {
  const r = await runAsync(cmd, args, { cwd, env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' } });
  return { code: r.code, out: `${r.stdout}${r.stderr}`, stdout: r.stdout };
}

/** A fresh project with the given qtdog packages installed from their tarballs. */
async function project(name: string, packages: string[]): Promise<string> {
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true }, null, 2));
  // --prefer-offline: the registry packages come from npm's cache when `npm ci` already fetched them.
  const r = await sh('npm', ['install', '--prefer-offline', '--no-package-lock', ...packages.map(tgz)], dir);
  expect(r.code, r.out).toBe(0);
  return dir;
}

/**
 * Script printing what a run returned, through `import` (.mjs) or `require` (.cjs): `imports` maps
 * package names to the names taken from them, `modulesExpr` builds the ContainerModule list.
 */
function runnerScript(kind: 'mjs' | 'cjs', imports: Record<string, string[]>, modulesExpr: string): string {
  const load = Object.entries({ '@qtdog/core': ['runExperiment'], ...imports })
    .map(([pkg, names]) => (kind === 'mjs' ? `import { ${names.join(', ')} } from '${pkg}';` : `const { ${names.join(', ')} } = require('${pkg}');`))
    .join('\n');
  const body = `(async () => {
  const r = await runExperiment(process.argv[2], { modules: ${modulesExpr}, outDir: process.argv[3] });
  const test = r.testEnvs.map((t) => r.last['env' + t + '_in_acc']);
  console.log(JSON.stringify({ steps: r.steps, checkpoints: r.records.length, test }));
})().catch((e) => { console.error(e); process.exit(1); });\n`;
  return `${load}\n${body}`;
}

const lastJson = (out: string) => JSON.parse(out.trim().split('\n').at(-1)!);

beforeAll(async () => {
  mkdirSync(tarballs, { recursive: true });
  const r = await sh('npm', ['pack', '--workspaces', '--ignore-scripts', '--pack-destination', tarballs], ROOT);
  expect(r.code, r.out).toBe(0);
  expect(readdirSync(tarballs).filter((f) => f.endsWith('.tgz')).length).toBe(readdirSync(join(ROOT, 'packages')).length);
}, 300_000);

describe('packed packages installed outside the monorepo', () => {
  it('cli + core + algorithms + datasets (and what they depend on): qtdog run, import and require', async () => {
    // The CLI depends on every qtdog package, so all tarballs go in; nothing comes from the workspace.
    const dir = await project('with-cli', ['cli', 'core', 'algorithms', 'datasets', 'engine', 'engine-onednn', 'networks', 'quantizers', 'evaluation', 'deploy']);
    expect(existsSync(join(dir, 'node_modules/@qtdog/core/dist/index.cjs'))).toBe(true);
    expect(existsSync(join(dir, 'node_modules/@qtdog/core/src'))).toBe(false);
    writeFileSync(
      join(dir, 'config.yaml'),
      [
        '# ERM + 7-bit LSQ on a slice of RotatedMNIST (the bundled digits)',
        'dataset: { type: RotatedMNIST, angles: [0, 30, 60], limit: 450, testEnvs: [0] }',
        'network: { type: MNIST_CNN }',
        'algorithm: { type: ERM, lr: 0.001, batchSize: 8 }',
        'quantizer: { type: LSQ, bits: 7, startStep: 2 }',
        'train: { steps: 4, checkpointFreq: 2, backend: wasm, workers: 1, evalBatchSize: 64 }',
        '',
      ].join('\n'),
    );
    const bin = await sh(join(dir, 'node_modules/.bin/qtdog'), ['run', 'config.yaml', '--out', 'run-bin'], dir);
    expect(bin.code, bin.out).toBe(0);
    expect(existsSync(join(dir, 'run-bin/done'))).toBe(true);
    const list = await sh(join(dir, 'node_modules/.bin/qtdog'), ['list', '--json'], dir);
    expect(list.code, list.out).toBe(0);
    expect(list.stdout).toContain('"LSQ"');

    writeFileSync(join(dir, 'run.mjs'), runnerScript('mjs', { '@qtdog/cli': ['builtinModules'] }, 'builtinModules()'));
    writeFileSync(join(dir, 'run.cjs'), runnerScript('cjs', { '@qtdog/cli': ['builtinModules'] }, 'builtinModules()'));
    for (const script of ['run.mjs', 'run.cjs']) {
      const r = await sh(process.execPath, [script, 'config.yaml', `run-${script.replace('.', '-')}`], dir);
      expect(r.code, r.out).toBe(0);
      const s = lastJson(r.stdout);
      expect(s.steps).toBe(4);
      expect(s.checkpoints).toBe(3);
      expect(s.test[0]).toBeGreaterThanOrEqual(0);
      expect(s.test[0]).toBeLessThanOrEqual(1);
    }
  }, 900_000);

  it('core + quantizers alone (with their dependencies), composed with a user plugin file', async () => {
    const dir = await project('quantizers-only', ['core', 'quantizers', 'networks', 'engine']);
    expect(existsSync(join(dir, 'node_modules/@qtdog/algorithms'))).toBe(false);
    expect(existsSync(join(dir, 'node_modules/@qtdog/cli'))).toBe(false);
    // The user's own dataset and algorithm (the test fixture plugin) beside the config.
    copyFileSync(join(ROOT, 'tests/fixtures/external-plugin/index.mjs'), join(dir, 'my-plugins.mjs'));
    writeFileSync(
      join(dir, 'config.yaml'),
      [
        'plugins: [./my-plugins.mjs]',
        'dataset: { type: FixtureStripes, testEnvs: [2], size: 40 }',
        'network: { type: MNIST_CNN }',
        'algorithm: { type: SmoothedERM, lr: 0.003, batchSize: 8, smoothing: 0.1 }',
        'quantizer: { type: LSQ, bits: 4, startStep: 1 }',
        'train: { steps: 4, checkpointFreq: 2, backend: wasm, workers: 1, evalBatchSize: 32 }',
        '',
      ].join('\n'),
    );
    for (const kind of ['mjs', 'cjs'] as const) {
      const script = runnerScript(kind, { '@qtdog/networks': ['networksModule'], '@qtdog/quantizers': ['quantizersModule'] }, '[networksModule, quantizersModule]');
      writeFileSync(join(dir, `run.${kind}`), script);
      const r = await sh(process.execPath, [`run.${kind}`, 'config.yaml', `run-${kind}`], dir);
      expect(r.code, r.out).toBe(0);
      const s = lastJson(r.stdout);
      expect(s.steps).toBe(4);
      expect(s.checkpoints).toBe(3);
      const config = JSON.parse(readFileSync(join(dir, `run-${kind}`, 'config.json'), 'utf8'));
      expect(config.quantizer.type).toBe('LSQ');
      expect(config.algorithm.type).toBe('SmoothedERM');
    }
  }, 900_000);
});
