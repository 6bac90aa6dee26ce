import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readResults } from '@qtdog/core';
import type { ResultRecord } from '../selection/selection-method.js';
import { jobFailure } from './job-failure.js';

/** What `qtdog sweep` writes to `<sweep-out>/sweep.json`: every job it expanded, finished or not. */
export interface SweepManifest {
  format: 'qtdog-sweep/1';
  name: string;
  /** The sweep file it came from. */
  file: string;
  /** Environment names of each dataset (table columns). */
  datasets: Record<string, { environments: string[] }>;
  jobs: SweepJobInfo[];
}

export interface SweepJobInfo {
  /** Hash of the job's resolved config; its folder is `<sweep-out>/<id>`. */
  id: string;
  /** Table row: algorithm, plus the quantizer setting when there is one (e.g. "ERM+QT-DoG"). */
  label: string;
  algorithm: string;
  quantizer: string | null;
  /** Bits of the quantized weights, 32 without a quantizer. */
  bits: number;
  dataset: string;
  testEnvs: number[];
  /** Hyperparameter draw (0 = defaults); the run config's `seed`. */
  draw: number;
  trialSeed: number;
}

export type RunStatus = 'done' | 'unfinished' | 'not started';

export interface LoadedRun {
  id: string;
  dir: string;
  info: SweepJobInfo;
  status: RunStatus;
  records: ResultRecord[];
  /** For a job that did not finish: why it stopped, from its log (`qtdog: data error: ...`). */
  failure?: string;
}

export interface LoadedSweep {
  dir: string;
  name: string;
  manifest: SweepManifest | null;
  datasets: Record<string, { environments: string[] }>;
  runs: LoadedRun[];
}

/** Row label of a run from its config alone (runs without a sweep manifest). */
export function labelFromConfig(config: Record<string, unknown>): { label: string; algorithm: string; quantizer: string | null; bits: number } {
  const algorithm = (config.algorithm as { type: string }).type;
  const q = config.quantizer as { type: string; options?: { bits?: number } } | undefined;
  if (!q) return { label: algorithm, algorithm, quantizer: null, bits: 32 };
  const bits = q.options?.bits ?? 32;
  const quantizer = `${q.type}-${bits}b`;
  return { label: `${algorithm}+${quantizer}`, algorithm, quantizer, bits };
}

function readJson<T>(path: string): T | null {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as T) : null;
}

/**
 * Reads a sweep folder: the jobs of its `sweep.json` (each marked done, unfinished or not started),
 * or, without one, every sub-folder holding a run. Only finished runs go into tables; the others are
 * counted so the report can show what is missing.
 */
export function loadSweep(dir: string): LoadedSweep {
  const manifest = readJson<SweepManifest>(join(dir, 'sweep.json'));
  const runs: LoadedRun[] = [];
  const load = (id: string, info: SweepJobInfo | null): LoadedRun | null => {
    const runDir = join(dir, id);
    const records = readResults(join(runDir, 'results.jsonl')) as ResultRecord[];
    const config = (records[0]?.config as Record<string, unknown> | undefined) ?? readJson<Record<string, unknown>>(join(runDir, 'config.json'));
    // A job that failed before its run wrote anything still has the sweep's job.json: it is listed.
    info ??= readJson<SweepJobInfo>(join(runDir, 'job.json'));
    if (!info) {
      if (!config) return null;
      const c = config as { seed: number; trialSeed: number; dataset: { type: string; testEnvs: number[] } };
      info = { id, ...labelFromConfig(config), dataset: c.dataset.type, testEnvs: c.dataset.testEnvs, draw: c.seed, trialSeed: c.trialSeed };
    }
    const status: RunStatus = existsSync(join(runDir, 'done')) ? 'done' : records.length > 0 || existsSync(runDir) ? 'unfinished' : 'not started';
    const failure = status === 'unfinished' ? jobFailure(join(runDir, 'log.txt')) : undefined;
    return { id, dir: runDir, info, status, records, ...(failure ? { failure } : {}) };
  };
  if (manifest) {
    for (const job of manifest.jobs) runs.push(load(job.id, job)!);
  } else if (existsSync(dir)) {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      const r = load(e.name, null);
      if (r) runs.push(r);
    }
  }
  return { dir, name: manifest?.name ?? dir.replace(/\/+$/, '').split('/').pop()!, manifest, datasets: manifest?.datasets ?? {}, runs };
}
