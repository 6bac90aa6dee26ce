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
  /** Jobs at the same time (overrides the launcher's own setting; a queue launcher's throttle). */
  jobs?: number;
  /** Launcher type instead of the sweep file's (e.g. 'slurm'). */
  launcher?: string;
  /** Launcher options over the sweep file's (e.g. { partition: 'gpu', wait: true }). */
  launcherOptions?: Record<string, unknown>;
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
  /** The launcher's name. */
  launcher: string;
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
  const extra = await loadPluginModules(specs, loaded.baseDir, loaded.baseFile, loaded.baseKeyPrefix);
  const { container, registry } = createPluginContainer([...opts.modules, ...extra]);
  const expanded = await expandSweep(loaded, registry, container, log);
  const name = loaded.sweep.name ?? sweepName(path);
  const outDir = resolve(opts.out ?? loaded.sweep.output ?? join('runs', 'sweeps', sweepName(path)));
  const jobs: SweepJobStatus[] = expanded.jobs.map((j) => {
    const dir = join(outDir, j.id);
    return { ...j, dir, status: existsSync(join(dir, 'done')) ? 'done' : 'pending' };
  });

  // --launcher picks another launcher type: the file's launcher options then apply only if of that type.
  const { type: fileType, ...fileOptions } = loaded.sweep.launcher;
  const launcherType = opts.launcher ?? fileType;
  const launcherDef = registry.get('launcher', launcherType, opts.launcher ? '--launcher' : `${path}: launcher.type`);
  const launcherOptions: Record<string, unknown> = { ...(launcherType === fileType ? fileOptions : {}), ...opts.launcherOptions };
  if (opts.jobs) {
    // --jobs: the local launcher's `jobs`, a queue launcher's throttle.
    const shape = (launcherDef.options as { shape?: Record<string, unknown> }).shape ?? {};
    launcherOptions['jobs' in shape || !('throttle' in shape) ? 'jobs' : 'throttle'] = opts.jobs;
  }
  const from = Object.keys(opts.launcherOptions ?? {}).length > 0 ? `${path} with --launcher-option` : path;
  const section = resolveSection(registry, 'launcher', { type: launcherType, ...launcherOptions }, ['launcher'], from);
  const launcher = (await launcherDef.create(section.options, { container, seed: 0, baseDir: loaded.baseDir, log })) as Launcher;
  const result: SweepResult = { name, outDir, jobs, outcomes: [], parallelism: launcher.parallelism, launcher: launcher.name };
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
  // A stable sort: within a trial, the expansion's order stays.
  if (loaded.sweep.order === 'trials-first') pending.sort((a, b) => a.trialSeed - b.trialSeed);
  // Each job already keeps a core busy; data-parallel threads inside jobs would only contend.
  // A cluster launcher knows each job's own CPUs instead.
  const workers = launcher.workersPerJob ?? (Math.min(launcher.parallelism, pending.length) > 1 ? 1 : undefined);
  const cli = opts.cliPath ?? defaultCliPath();
  if (!existsSync(cli)) throw new RunError(`the qtdog CLI is not built (${cli} is missing); run \`npm run build\` first`);
  const launchJobs: LaunchJob[] = pending.map((j) => {
    // A folder without `done` holds a failed or interrupted attempt: `qtdog run` resumes it from its
    // last checkpoint (or starts afresh), and its folder lock keeps a second launch off it.
    mkdirSync(j.dir, { recursive: true });
    const config = workers !== undefined ? { ...j.config, train: { ...j.config.train, workers } } : j.config;
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
  const atOnce = Number.isFinite(launcher.parallelism) ? `${launcher.parallelism} at a time` : 'as the scheduler allows';
  log(`sweep ${name}: ${jobs.length} jobs, ${done} already done (skipped), ${pending.length} to run, ${atOnce} (${launcher.name} launcher); output in ${outDir}`);
  if (pending.length === 0) return result;
  const slots = Math.min(launcher.parallelism, pending.length);
  const progress = createSweepProgress(pending.length, slots, opts.progressStream, (opts.progressIntervalSec ?? 5) * 1000);
  try {
    result.outcomes = await launcher.launch(
      launchJobs,
      { onStart: (j) => progress.start(j), onFinish: (o) => progress.finish(o) },
      { sweepDir: outDir, name, log },
    );
  } finally {
    progress.stop();
  }
  return result;
}
