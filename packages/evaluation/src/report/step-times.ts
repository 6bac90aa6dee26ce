import type { LoadedSweep } from './sweep-manifest.js';
import { htmlEscape } from './tables.js';

/** One row of a sweep's time-per-step table: one algorithm (row label) on one dataset. */
export interface StepTimeRow {
  label: string;
  /** Mean training step time (s) over the runs that have one. */
  seconds: number;
  /** Runs measured. */
  runs: number;
  /** Data-parallel workers the runs used (all distinct values). */
  workers: number[];
  /** seconds / ERM's seconds on the same dataset; null without an ERM row. */
  ratioToErm: number | null;
}

export interface StepTimeTable {
  dataset: string;
  rows: StepTimeRow[];
  /** Said under the table when the rows are not comparable as measured. */
  note?: string;
}

/**
 * A run's mean step time: the `stepTime` of its checkpoint records after step 0, weighted by the
 * steps each covers (step 0's record times the first step alone, with its one-off warm-up).
 */
export function runStepTime(records: ReadonlyArray<Record<string, unknown>>): number | null {
  let prev = 0;
  let sum = 0;
  let steps = 0;
  for (const r of records) {
    const step = r.step;
    const t = r.stepTime;
    if (typeof step !== 'number' || step <= 0 || typeof t !== 'number' || !Number.isFinite(t)) {
      if (typeof step === 'number') prev = step;
      continue;
    }
    const covered = step - prev;
    if (covered > 0) {
      sum += t * covered;
      steps += covered;
    }
    prev = step;
  }
  return steps > 0 ? sum / steps : null;
}

/**
 * Time per training step of each row, and its ratio to ERM's: the figure issue 4 asks of
 * algorithms with more than one backward pass. Step times depend on what else ran on the machine
 * (a sweep running N jobs at once slows each), so ratios are only as fair as the runs were alike.
 */
export function buildStepTimeTables(sweep: LoadedSweep): StepTimeTable[] {
  const datasets = [...new Set(sweep.runs.map((r) => r.info.dataset))];
  return datasets.flatMap((dataset) => {
    const byLabel = new Map<string, { times: number[]; workers: Set<number> }>();
    for (const run of sweep.runs) {
      if (run.info.dataset !== dataset) continue;
      const t = runStepTime(run.records);
      if (t === null) continue;
      const e = byLabel.get(run.info.label) ?? { times: [], workers: new Set<number>() };
      e.times.push(t);
      for (const r of run.records) if (typeof r.workers === 'number') e.workers.add(r.workers);
      byLabel.set(run.info.label, e);
    }
    if (byLabel.size === 0) return [];
    const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
    const erm = byLabel.get('ERM');
    const ermSec = erm ? mean(erm.times) : null;
    const rows: StepTimeRow[] = [...byLabel.entries()].map(([label, e]) => {
      const seconds = mean(e.times);
      return { label, seconds, runs: e.times.length, workers: [...e.workers].sort((a, b) => a - b), ratioToErm: ermSec ? seconds / ermSec : null };
    });
    const workerSets = new Set(rows.map((r) => r.workers.join(',')));
    const note = workerSets.size > 1 ? 'the rows ran with different numbers of workers: their times and ratios are not comparable' : undefined;
    return [{ dataset, rows, ...(note ? { note } : {}) }];
  });
}

const HEAD = ['Algorithm', 's / step', '× ERM', 'runs', 'workers'];

/** A row's cells after its label, as text: the same in Markdown and HTML. */
function cells(r: StepTimeRow): string[] {
  return [r.seconds.toFixed(2), r.ratioToErm === null ? '—' : r.ratioToErm.toFixed(2), String(r.runs), r.workers.join(', ') || '?'];
}

export function stepTimeTableToMarkdown(t: StepTimeTable): string {
  const lines = [`| ${HEAD.join(' | ')} |`, `|${HEAD.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`];
  for (const r of t.rows) lines.push(`| ${[r.label, ...cells(r)].join(' | ')} |`);
  return lines.join('\n');
}

export function stepTimeTableToHtml(t: StepTimeTable): string {
  const body = t.rows.map((r) => `<tr><th scope="row">${htmlEscape(r.label)}</th>${cells(r).map((c) => `<td>${htmlEscape(c)}</td>`).join('')}</tr>`).join('');
  return `<table><thead><tr>${HEAD.map((h) => `<th scope="col">${htmlEscape(h)}</th>`).join('')}</tr></thead><tbody>${body}</tbody></table>`;
}
