import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join, resolve } from 'node:path';
import type { ContainerModule } from 'inversify';
import { stringify } from 'yaml';
import { createPluginContainer, loadPluginModules, resolveSection, RunError } from '@qtdog/core';
import type { JobOutcome, LaunchJob, Launcher, SweepManifest } from '@qtdog/evaluation';
import { expandSweep, type SweepJob } from './expand.js';
import { loadSweepFile } from './sweep-file.js';
import { createSweepProgress } from './sweep-progress.js';

export interface SweepOptions {
  /** ContainerModules of the installed qtdog packages. */
  modules: ContainerModule[];
  /** Output folder (default: the sweep file's output:, else runs/sweeps/<file name>). */
  out?: string;
  /** Jobs at the same time (overrides the launcher's own setting). */
  jobs?: number;
  dryRun?: boolean;
  /** The built CLI each job runs (default: @qtdog/cli's dist/bin.js). */
  cliPath?: string;
  log?: (m: string) => void;
  /** Where the progress view goes (default stderr). */
  progressStream?: NodeJS.WriteStream;
  /** Seconds between plain progress lines when not on a terminal. */
  progressIntervalSec?: number;
}

export interface SweepJobStatus extends SweepJob {
  dir: string;
  status: 'done' | 'pending';
}

export interface SweepResult {
  name: string;
  outDir: string;
  jobs: SweepJobStatus[];
  /** Outcomes of the jobs run now (none on a dry run). */
  outcomes: JobOutcome[];
  parallelism: number;
}

/** The built CLI: `<@qtdog/cli>/dist/bin.js`, found through Node's module resolution. */
export function defaultCliPath(): string {
  const bases = [(import.meta as { url?: string }).url, typeof __filename !== 'undefined' ? __filename : undefined, `${process.cwd()}/`].filter(
    (b): b is string => typeof b === 'string' && b.length > 0,
  );
  for (const base of bases) {
    try {
      return join(dirname(createRequire(base).resolve('@qtdog/cli/package.json')), 'dist', 'bin.js');
    } catch {
      // try the next base
    }
  }
  throw new RunError('cannot find the @qtdog/cli package to run jobs with');
}

const sweepName = (file: string) => basename(file).replace(/\.(ya?ml|json)$/i, '');

/**
 * `qtdog sweep`: expands a sweep file into jobs, skips those whose folder has `done`, and runs the
 * rest with the sweep's launcher, each as `qtdog run <job>/config.yaml --out <job>` in its own
 * process, so one crash does not end the sweep.
 */
export async function runSweep(path: string, opts: SweepOptions): Promise<SweepResult> {
  const log = opts.log ?? (() => {});
  const loaded = loadSweepFile(path);
  const specs = Array.isArray(loaded.base.plugins) ? (loaded.base.plugins as string[]) : [];
  const extra = await loadPluginModules(specs, loaded.baseDir, loaded.baseFile);
  const { container, registry } = createPluginContainer([...opts.modules, ...extra]);
  const expanded = await expandSweep(loaded, registry, container, log);
  const name = loaded.sweep.name ?? sweepName(path);
  const outDir = resolve(opts.out ?? loaded.sweep.output ?? join('runs', 'sweeps', sweepName(path)));
  const jobs: SweepJobStatus[] = expanded.jobs.map((j) => {
    const dir = join(outDir, j.id);
    return { ...j, dir, status: existsSync(join(dir, 'done')) ? 'done' : 'pending' };
  });

  const { type: launcherType, ...launcherOptions } = loaded.sweep.launcher;
  const section = resolveSection(registry, 'launcher', { type: launcherType, ...launcherOptions, ...(opts.jobs ? { jobs: opts.jobs } : {}) }, ['launcher'], path);
  const launcherDef = registry.get('launcher', launcherType);
  const launcher = (await launcherDef.create(section.options, { container, seed: 0, baseDir: loaded.baseDir, log })) as Launcher;
  const result: SweepResult = { name, outDir, jobs, outcomes: [], parallelism: launcher.parallelism };
  if (opts.dryRun) return result;

  const manifest: SweepManifest = {
    format: 'qtdog-sweep/1',
    name,
    file: resolve(path),
    datasets: expanded.datasets,
    jobs: expanded.jobs.map(({ config: _config, ...info }) => info),
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(join(outDir, 'sweep.json'), JSON.stringify(manifest, null, 2) + '\n');

  const pending = jobs.filter((j) => j.status === 'pending');
  // Each job already keeps a core busy; data-parallel threads inside jobs would only contend.
  const oneWorker = Math.min(launcher.parallelism, pending.length) > 1;
  const cli = opts.cliPath ?? defaultCliPath();
  if (!existsSync(cli)) throw new RunError(`the qtdog CLI is not built (${cli} is missing); run \`npm run build\` first`);
  const launchJobs: LaunchJob[] = pending.map((j) => {
    // A folder without `done` holds a failed or interrupted attempt: `qtdog run` resumes it from its
    // last checkpoint (or starts afresh), and its folder lock keeps a second launch off it.
    mkdirSync(j.dir, { recursive: true });
    const config = oneWorker ? { ...j.config, train: { ...j.config.train, workers: 1 } } : j.config;
    const { config: _c, dir: _d, status: _s, ...info } = j;
    writeFileSync(join(j.dir, 'config.yaml'), `# qtdog sweep ${name}, job ${j.id}\n${stringify(config)}`);
    writeFileSync(join(j.dir, 'job.json'), JSON.stringify(info, null, 2) + '\n');
    return {
      id: j.id,
      label: `${j.label} ${j.dataset} test [${j.testEnvs.join(',')}] trial ${j.trialSeed} draw ${j.draw}`,
      command: process.execPath,
      args: [cli, 'run', join(j.dir, 'config.yaml'), '--out', j.dir],
      logFile: join(j.dir, 'log.txt'),
      doneFile: join(j.dir, 'done'),
    };
  });
  const done = jobs.length - pending.length;
  log(`sweep ${name}: ${jobs.length} jobs, ${done} already done (skipped), ${pending.length} to run, ${launcher.parallelism} at a time (${launcher.name} launcher); output in ${outDir}`);
  if (pending.length === 0) return result;
  const progress = createSweepProgress(pending.length, launcher.parallelism, opts.progressStream, (opts.progressIntervalSec ?? 5) * 1000);
  try {
    result.outcomes = await launcher.launch(launchJobs, { onStart: (j) => progress.start(j), onFinish: (o) => progress.finish(o) });
  } finally {
    progress.stop();
  }
  return result;
}
