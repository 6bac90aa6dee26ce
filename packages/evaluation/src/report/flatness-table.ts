import { rowsToHtml, rowsToMarkdown } from './tables.js';
import { flatnessRows, type FlatnessRow } from './plots.js';
import type { LoadedSweep } from './sweep-manifest.js';

/** The flatness results of one dataset as a table: one row per label and side, one column per radius. */
export interface FlatnessTable {
  dataset: string;
  radii: number[];
  rows: FlatnessRow[];
}

export const FLATNESS_LEGEND =
  'Cells: F(γ) = E[L(w+γd) − L(w)], the mean loss increase at radius γ over random unit directions d, averaged over the ' +
  'row\'s runs; "± a / b": a = spread over directions (sample std, mean over runs), b = spread between runs (sample std ' +
  'over runs). L(w): mean cross-entropy at the trained weights. Lower F = flatter.';

export function buildFlatnessTables(sweep: LoadedSweep): FlatnessTable[] {
  const out: FlatnessTable[] = [];
  for (const dataset of [...new Set(sweep.runs.map((r) => r.info.dataset))]) {
    const rows = flatnessRows(sweep, dataset);
    if (rows.length === 0) continue;
    // Sides grouped: every label's training-domain row first, then the test-domain rows.
    rows.sort((a, b) => (a.domain === b.domain ? 0 : a.domain === 'train' ? -1 : 1));
    out.push({ dataset, radii: rows[0]!.radii, rows });
  }
  return out;
}

const g3 = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

function cells(t: FlatnessTable, row: FlatnessRow): string[] {
  const same = row.radii.length === t.radii.length && row.radii.every((r, i) => r === t.radii[i]);
  return [
    row.label,
    row.domain,
    String(row.runs),
    String(row.samples),
    Number.isFinite(row.baseLoss) ? row.baseLoss.toFixed(3) : '-',
    ...t.radii.map((_, i) => (same ? `${g3(row.mean[i]!)} ± ${g3(row.std[i]!)} / ${g3(row.runStd[i]!)}` : 'other radii')),
  ];
}

const header = (t: FlatnessTable) => ['run', 'domains', 'runs', 'directions', 'L(w)', ...t.radii.map((r) => `F(${r})`)];

export const flatnessTableToMarkdown = (t: FlatnessTable): string => rowsToMarkdown(header(t), t.rows.map((r) => cells(t, r)));

export const flatnessTableToHtml = (t: FlatnessTable): string => rowsToHtml(header(t), t.rows.map((r) => cells(t, r)));
