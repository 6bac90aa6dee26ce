// Issue 27, item 1 and the sweep half of item 6: a sweep over the user's own image folder, its paths
// written relative to the files that hold them; and sweep errors that say everything at once.
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { builtinModules } from '@qtdog/cli';
import { writeImageTree } from '@qtdog/datasets';
import { sweepStatus, writeReport } from '@qtdog/evaluation';
import { runSweep } from '../../packages/cli/src/sweep/run-sweep';
import { qtdog, tempDir } from '../helpers';

const dryRun = (file: string, out = tempDir()) => runSweep(file, { modules: builtinModules(), out, dryRun: true });
const errorOf = async (file: string) => {
  try {
    await dryRun(file);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected the sweep to fail');
};

/** A project as a user lays it out: data/, configs/ with the base run config, sweeps/ with the sweep. */
function project(root: string, datasetLine = 'dataset: { type: ImageFolderDomains, root: ../data/shapes, imageSize: 16, cacheSize: 0 }') {
  mkdirSync(join(root, 'configs'), { recursive: true });
  mkdirSync(join(root, 'sweeps'), { recursive: true });
  writeFileSync(
    join(root, 'configs/base.yaml'),
    [datasetLine, 'network: { type: MNIST_CNN }', 'algorithm: { type: ERM, batchSize: 4 }', 'train: { steps: 2, checkpointFreq: 1, backend: wasm, evalBatchSize: 16 }', ''].join('\n'),
  );
  const sweep = join(root, 'sweeps/mine.yaml');
  writeFileSync(sweep, ['base: ../configs/base.yaml', 'algorithms: [ERM]', 'testEnvs: [[0]]', ''].join('\n'));
  return sweep;
}

const root = tempDir('qtdog-sweep-paths-');
beforeAll(async () => {
  await writeImageTree(join(root, 'data/shapes'), { environments: ['a', 'b', 'c'], classes: ['x', 'y'], perClass: 3, width: 16 });
});

describe('path options in sweeps resolve against the file that wrote them', () => {
  it("a relative root: in the base config reaches the job's config as the same folder, absolute", async () => {
    const r = await dryRun(project(root));
    expect(r.jobs.length).toBe(1);
    expect((r.jobs[0]!.config.dataset as { root: string }).root).toBe(join(root, 'data/shapes'));
  });

  it("a root: written in the sweep file's datasets: resolves against the sweep file's folder", async () => {
    const sweep = project(root);
    writeFileSync(sweep, readFileSync(sweep, 'utf8') + 'datasets: [{ type: ImageFolderDomains, root: ../data/shapes, imageSize: 16 }]\n');
    const r = await dryRun(sweep);
    expect((r.jobs[0]!.config.dataset as { root: string }).root).toBe(join(root, 'data/shapes'));
  });

  it('names jobs by the paths as written, so moving the whole project keeps every job id', async () => {
    const ids = (await dryRun(project(root))).jobs.map((j) => j.id);
    const moved = tempDir('qtdog-moved-');
    cpSync(root, moved, { recursive: true });
    expect((await dryRun(join(moved, 'sweeps/mine.yaml'))).jobs.map((j) => j.id)).toEqual(ids);
  });

  it('--dry-run fails on a dataset root that does not exist, naming the key and the folder', async () => {
    const dir = tempDir();
    const sweep = project(dir, 'dataset: { type: ImageFolderDomains, root: ../data/nowhere }');
    expect(await errorOf(sweep)).toBe(`${sweep} (job ERM, ImageFolderDomains, test envs [0], trial 0, draw 0): dataset.root: ${join(dir, 'data/nowhere')} does not exist`);
  });

  it('runs the job from its own folder and trains on the folder the config named (built CLI)', () => {
    const sweep = project(root);
    const out = join(tempDir(), 'sweep');
    const r = qtdog(['sweep', sweep, '--out', out, '--jobs', '1'], root);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    const status = sweepStatus(out);
    expect(status.counts.done).toBe(1);
  });
});

describe('sweep errors: every mistake at once, named where it was written', () => {
  it('reports two typos of two jobs in one error, a typo shared by every job once', async () => {
    const dir = tempDir();
    const sweep = project(dir);
    writeFileSync(join(dir, 'configs/base.yaml'), readFileSync(join(dir, 'configs/base.yaml'), 'utf8').replace('batchSize: 4', 'batchsize: 4'));
    writeFileSync(sweep, ['base: ../configs/base.yaml', 'algorithms: [ERM, { type: CORAL, mmdGama: 1 }]', 'testEnvs: [[0]]', ''].join('\n'));
    const lines = (await errorOf(sweep)).split('\n');
    expect(lines).toEqual([
      `${sweep} (job ERM, ImageFolderDomains, test envs [0], trial 0, draw 0): algorithm.batchsize: unknown key (did you mean batchSize?) (and 1 more job)`,
      `${sweep} (job CORAL, ImageFolderDomains, test envs [0], trial 0, draw 0): algorithm.mmdGama: unknown key (did you mean mmdGamma?)`,
    ]);
  });

  it('says a warning that holds for every job once (IRM\'s anneal step past the end of a short run)', async () => {
    const dir = tempDir();
    const sweep = project(dir, `dataset: { type: ImageFolderDomains, root: ${join(root, 'data/shapes')}, imageSize: 16 }`);
    writeFileSync(sweep, ['base: ../configs/base.yaml', 'algorithms: [IRM]', 'testEnvs: [[0]]', 'trials: 3', ''].join('\n'));
    const logs: string[] = [];
    const r = await runSweep(sweep, { modules: builtinModules(), out: tempDir(), dryRun: true, log: (m) => logs.push(m) });
    expect(r.jobs.length).toBe(3);
    const warnings = logs.filter((l) => l.startsWith('warning: '));
    expect(warnings).toEqual([
      `warning: ${sweep} (job IRM, ImageFolderDomains, test envs [0], trial 0, draw 0): algorithm.irmPenaltyAnnealIters: 500 is not below train.steps (2), so the run ends first: the penalty keeps weight 1 for the whole run (irmLambda never applies); set it below 2 or raise train.steps`,
    ]);
  });

  it('names an inline base\'s plugins as base.plugins[i], and hints ./ for a relative file written without it', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib/mine.mjs'), 'export {};\n');
    const sweep = join(dir, 'inline.yaml');
    writeFileSync(sweep, ['base:', '  plugins: [lib/mine.mjs]', '  dataset: { type: FixtureStripes }', 'algorithms: [ERM]', 'testEnvs: [[0]]', ''].join('\n'));
    expect(await errorOf(sweep)).toBe(
      `${sweep}: base.plugins[0]: cannot find plugin package 'lib/mine.mjs' from ${dir}; a file there has that name: relative files need ./ (write './lib/mine.mjs')`,
    );
  });
});

describe('failed jobs show in sweep status and report', () => {
  it('lists a failed job with the error its log ends with, in both', async () => {
    const dir = tempDir();
    const sweep = project(dir, `dataset: { type: ImageFolderDomains, root: ${join(root, 'data/shapes')}, imageSize: 16 }`);
    const out = join(dir, 'out');
    // The folders as a sweep leaves them when its job's run fails before writing anything.
    const { jobs } = await dryRun(sweep, out);
    const job = jobs[0]!;
    mkdirSync(job.dir, { recursive: true });
    writeFileSync(join(out, 'sweep.json'), JSON.stringify({ format: 'qtdog-sweep/1', name: 'mine', file: sweep, datasets: {}, jobs: [{ ...job, config: undefined, dir: undefined, status: undefined }] }));
    writeFileSync(join(job.dir, 'log.txt'), 'loading\nqtdog: data error: image folder /x/data/shapes does not exist\n');
    const status = sweepStatus(out);
    expect(status.jobs[0]!.state).toBe('failed');
    expect(status.jobs[0]!.detail).toBe('started but stopped before finishing: qtdog: data error: image folder /x/data/shapes does not exist');
    const report = await writeReport(out, { methods: [], plots: false });
    expect(report.unfinished).toEqual([{ id: job.id, dir: job.dir, label: 'ERM ImageFolderDomains test [0] trial 0 draw 0', failure: 'qtdog: data error: image folder /x/data/shapes does not exist' }]);
    expect(readFileSync(join(out, 'report/results.md'), 'utf8')).toContain(`- \`${job.dir} (ERM ImageFolderDomains test [0] trial 0 draw 0): qtdog: data error: image folder /x/data/shapes does not exist\``);
    // Without sweep.json, the folder is still found through its job.json.
    writeFileSync(join(job.dir, 'job.json'), JSON.stringify({ ...job, config: undefined, dir: undefined, status: undefined }));
    rmSync(join(out, 'sweep.json'));
    expect((await writeReport(out, { methods: [], plots: false })).unfinished.map((j) => j.id)).toEqual([job.id]);
    expect(existsSync(join(out, 'report/results.md'))).toBe(true);
  });
});
