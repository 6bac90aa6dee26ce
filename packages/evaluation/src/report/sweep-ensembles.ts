import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RunError } from '@qtdog/core';
import { rowsToHtml, rowsToMarkdown } from './tables.js';
import { mean, standardError } from '../stats.js';
import type { LoadedRun, LoadedSweep } from './sweep-manifest.js';

/**
 * Ensembles of a sweep's trials (`qtdog report --ensembles`): for every row label and test
 * environment, the logit average of its finished trials, so EoQ (the QT-DoG rows) can be read
 * against its own best member and against an EoA-style ensemble of the float rows, which tells
 * ensembling and quantization apart. Computed once (it needs the runs' checkpoints) into the sweep
 * folder's ensembles.json, which a snapshot keeps, so a report rebuilt from the snapshot shows it too.
 */
export const ENSEMBLES_FILE = 'ensembles.json';

export interface SweepEnsembleMember {
  id: string;
  trialSeed: number;
  step: number;
  trainDomainValAcc: number | null;
  packedBytes: number;
  /** Accuracy on each test environment, whole (in and out splits together), as QT-DoG evaluates EoQ. */
  testAcc: number[];
}

export interface SweepEnsembleGroup {
  label: string;
  dataset: string;
  testEnvs: number[];
  draw: number;
  checkpoint: string;
  members: SweepEnsembleMember[];
  ensemble: { testAcc: number[]; packedBytes: number; float32Bytes: number; sizeVsOneFloatModel: number };
}

export interface SweepEnsembles {
  format: 'qtdog-ensembles/1';
  sweep: string;
  groups: SweepEnsembleGroup[];
}

/** The finished runs to ensemble: per label, dataset, test environments and draw, every trial with a checkpoint. */
export function ensembleGroups(sweep: LoadedSweep, minMembers = 2): Array<{ label: string; dataset: string; testEnvs: number[]; draw: number; runs: LoadedRun[] }> {
  const groups = new Map<string, LoadedRun[]>();
  for (const run of sweep.runs.filter((r) => r.status === 'done')) {
    const key = JSON.stringify([run.info.label, run.info.dataset, run.info.testEnvs, run.info.draw]);
    groups.set(key, [...(groups.get(key) ?? []), run]);
  }
  return [...groups.entries()]
    .filter(([, runs]) => runs.length >= minMembers)
    .map(([key, runs]) => {
      const [label, dataset, testEnvs, draw] = JSON.parse(key) as [string, string, number[], number];
      return { label, dataset, testEnvs, draw, runs: runs.sort((a, b) => a.info.trialSeed - b.info.trialSeed) };
    });
}

/** The sweep folder's ensembles.json, or null when there is none. A malformed file is a one-line error. */
export function readSweepEnsembles(sweepDir: string): SweepEnsembles | null {
  const file = join(sweepDir, ENSEMBLES_FILE);
  if (!existsSync(file)) return null;
  let data: SweepEnsembles;
  try {
    data = JSON.parse(readFileSync(file, 'utf8')) as SweepEnsembles;
  } catch (e) {
    throw new RunError(`${file}: not valid JSON (${(e as Error).message}); delete it and re-run qtdog report --ensembles`);
  }
  if (data?.format !== 'qtdog-ensembles/1' || !Array.isArray(data.groups)) throw new RunError(`${file}: not a qtdog ensembles file (format qtdog-ensembles/1); delete it and re-run qtdog report --ensembles`);
  return data;
}

const pct = (v: number) => (100 * v).toFixed(1);

export const ENSEMBLES_LEGEND =
  'Each row: the finished trials of one setting, each at its training-domain-validation checkpoint, and the mean of their ' +
  'logits. Accuracy (%) on the whole test environment (in and out splits). "selected member": the trial with the best ' +
  'training-domain validation accuracy (no test data used); "best member (oracle)": the trial best on the test ' +
  'environment, an upper bound no selection reaches. "gain": ensemble minus the members\' mean. Size: packed export of ' +
  'all members, and that total against one float32 model.';

export interface EnsembleRowCells {
  dataset: string;
  cells: string[];
}

const HEADER = ['run', 'test env', 'members', 'members (mean ± s.e.)', 'selected member', 'best member (oracle)', 'ensemble', 'gain', 'size', 'x float32'];

/** Table rows (one per group and test environment), plain strings. */
export function ensembleRows(e: SweepEnsembles, envNames?: (dataset: string, env: number) => string | undefined): EnsembleRowCells[] {
  const rows: EnsembleRowCells[] = [];
  for (const g of e.groups) {
    g.testEnvs.forEach((env, k) => {
      const accs = g.members.map((m) => m.testAcc[k]!);
      const selected = [...g.members].sort((a, b) => (b.trainDomainValAcc ?? -1) - (a.trainDomainValAcc ?? -1))[0]!;
      const name = envNames?.(g.dataset, env);
      rows.push({
        dataset: g.dataset,
        cells: [
          g.label,
          name !== undefined ? `${env} (${name})` : String(env),
          String(g.members.length),
          `${pct(mean(accs))} ± ${pct(standardError(accs))}`,
          pct(selected.testAcc[k]!),
          pct(Math.max(...accs)),
          pct(g.ensemble.testAcc[k]!),
          `${g.ensemble.testAcc[k]! >= mean(accs) ? '+' : ''}${pct(g.ensemble.testAcc[k]! - mean(accs))}`,
          `${(g.ensemble.packedBytes / 1024).toFixed(0)} KiB`,
          `${g.ensemble.sizeVsOneFloatModel.toFixed(2)}x`,
        ],
      });
    });
  }
  return rows;
}

export const ensemblesToMarkdown = (rows: EnsembleRowCells[]): string => rowsToMarkdown(HEADER, rows.map((r) => r.cells));

export const ensemblesToHtml = (rows: EnsembleRowCells[]): string => rowsToHtml(HEADER, rows.map((r) => r.cells));
