import { groupRecords, sweepAcc, type ResultRecord, type SelectionMethod } from '../selection/selection-method.js';
import type { LoadedRun, LoadedSweep } from './sweep-manifest.js';
import { mean, standardError } from '../stats.js';

/** One trial's selected result in a table cell. */
export interface TrialResult {
  trialSeed: number;
  testAcc: number;
  valAcc: number;
  step: number;
  /** The chosen hyperparameter draw. */
  draw: number;
  /** Folder id of the chosen run. */
  run: string;
}

export interface TableCell {
  testEnv: number;
  /** Mean test accuracy over trials (0-1), null when no trial has a result. */
  mean: number | null;
  /** Standard error over trials, DomainBed's way: population std / sqrt(n). */
  err: number | null;
  /** Trials with a result. */
  n: number;
  /** Trials the sweep asked for. */
  expected: number;
  trials: TrialResult[];
}

export interface TableRow {
  label: string;
  cells: TableCell[];
  /** Mean of the cells' means, null when any cell has none (DomainBed prints X). */
  avg: number | null;
}

export interface ResultsTable {
  selection: string;
  title: string;
  dataset: string;
  columns: Array<{ testEnv: number; name: string }>;
  rows: TableRow[];
  /** Why a whole table may be empty (e.g. leave-one-out without runs holding out two domains). */
  note?: string;
}

function meanErr(values: number[]): { mean: number | null; err: number | null } {
  if (values.length === 0) return { mean: null, err: null };
  return { mean: mean(values), err: standardError(values) };
}

/**
 * DomainBed's results tables (`collect_results.py`): for every selection method and dataset, one row
 * per algorithm (with its quantizer setting) and one column per single test environment in the
 * sweep, each cell the mean +/- standard error over trials of the selected test accuracy. Only
 * finished runs are used; a cell with fewer trials than the sweep asked for says how many it has.
 */
export function buildTables(sweep: LoadedSweep, methods: readonly SelectionMethod[]): ResultsTable[] {
  const finished = sweep.runs.filter((r) => r.status === 'done');
  const runOf = new Map<ResultRecord, LoadedRun>();
  for (const run of finished) for (const rec of run.records) runOf.set(rec, run);
  const records = finished.flatMap((r) => r.records);
  const datasets = [...new Set(sweep.runs.map((r) => r.info.dataset))];
  const tables: ResultsTable[] = [];
  for (const method of methods) {
    for (const dataset of datasets) {
      const runs = sweep.runs.filter((r) => r.info.dataset === dataset);
      const labels = [...new Set(runs.map((r) => r.info.label))];
      const testEnvs = [...new Set(runs.filter((r) => r.info.testEnvs.length === 1).map((r) => r.info.testEnvs[0]!))].sort((a, b) => a - b);
      const names = sweep.datasets[dataset]?.environments;
      const groups = groupRecords(
        records.filter((r) => runOf.get(r)!.info.dataset === dataset),
        (r) => runOf.get(r)!.info.label,
        (k) => k,
      );
      const rows = labels.map((label): TableRow => {
        const cells = testEnvs.map((testEnv): TableCell => {
          const expected = new Set(runs.filter((r) => r.info.label === label && r.info.testEnvs.length === 1 && r.info.testEnvs[0] === testEnv).map((r) => r.info.trialSeed)).size;
          const trials: TrialResult[] = [];
          for (const g of groups.filter((g) => g.key === label && g.testEnv === testEnv).sort((a, b) => a.trialSeed - b.trialSeed)) {
            const c = sweepAcc(method, g.records, testEnv);
            if (c) trials.push({ trialSeed: g.trialSeed, testAcc: c.testAcc, valAcc: c.valAcc, step: c.step, draw: c.seed, run: runOf.get(c.record)!.id });
          }
          return { testEnv, ...meanErr(trials.map((t) => t.testAcc)), n: trials.length, expected, trials };
        });
        const means = cells.map((c) => c.mean);
        const avg = means.length > 0 && means.every((m) => m !== null) ? (means as number[]).reduce((a, b) => a + b, 0) / means.length : null;
        return { label, cells, avg };
      });
      const note =
        method.name === 'leave-one-out' && !runs.some((r) => r.info.testEnvs.length === 2)
          ? 'needs runs that hold out two environments (test envs [t, v] for every other v); this sweep has none'
          : undefined;
      tables.push({
        selection: method.name,
        title: method.title,
        dataset,
        columns: testEnvs.map((t) => ({ testEnv: t, name: names?.[t] ?? `env ${t}` })),
        rows,
        ...(note ? { note } : {}),
      });
    }
  }
  return tables;
}

/** A cell as text: "97.1 ± 0.3", with "(2/3)" when trials are missing, "X (0/3)" when all are. */
export function formatCell(c: TableCell, pm: string): string {
  const count = c.n < c.expected ? ` (${c.n}/${c.expected})` : '';
  if (c.mean === null) return `X${c.expected ? ` (0/${c.expected})` : ''}`;
  return `${(100 * c.mean).toFixed(1)} ${pm} ${(100 * c.err!).toFixed(1)}${count}`;
}

const avgText = (r: TableRow) => (r.avg === null ? 'X' : (100 * r.avg).toFixed(1));

export function tableToMarkdown(t: ResultsTable): string {
  const head = ['Algorithm', ...t.columns.map((c) => c.name), 'Avg'];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`];
  for (const r of t.rows) lines.push(`| ${[r.label, ...r.cells.map((c) => formatCell(c, '±')), avgText(r)].join(' | ')} |`);
  return lines.join('\n');
}

const texEscape = (s: string) => s.replace(/\\/g, '\\textbackslash{}').replace(/([&%$#_{}])/g, '\\$1').replace(/~/g, '\\textasciitilde{}').replace(/\^/g, '\\textasciicircum{}');

/** A booktabs table, as DomainBed's `print_table(latex=True)` lays it out. */
export function tableToLatex(t: ResultsTable): string {
  const head = ['Algorithm', ...t.columns.map((c) => c.name), 'Avg'].map((h) => `\\textbf{${texEscape(h)}}`);
  const lines = [
    `% ${t.dataset}, model selection: ${t.title}`,
    '\\begin{center}',
    '\\adjustbox{max width=\\textwidth}{%',
    `\\begin{tabular}{l${'c'.repeat(t.columns.length + 1)}}`,
    '\\toprule',
    `${head.join(' & ')} \\\\`,
    '\\midrule',
    ...t.rows.map((r) => `${[texEscape(r.label), ...r.cells.map((c) => texEscape(formatCell(c, 'PM')).replace('PM', '$\\pm$')), avgText(r)].join(' & ')} \\\\`),
    '\\bottomrule',
    '\\end{tabular}}',
    '\\end{center}',
  ];
  return lines.join('\n');
}

/** Text made safe for HTML element content and attribute values. */
export const htmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** A table of plain strings as Markdown: the header line, its rule, then one line per row. */
export function rowsToMarkdown(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [header, header.map(() => '---'), ...rows].map((l) => `| ${l.join(' | ')} |`).join('\n');
}

/** The same table as HTML, each row's first cell its row header. */
export function rowsToHtml(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const head = `<thead><tr>${header.map((h) => `<th>${htmlEscape(h)}</th>`).join('')}</tr></thead>`;
  const body = rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th scope="row">${htmlEscape(c)}</th>` : `<td>${htmlEscape(c)}</td>`)).join('')}</tr>`).join('\n');
  return `<table>${head}\n<tbody>\n${body}\n</tbody></table>`;
}

export function tableToHtml(t: ResultsTable): string {
  const head = ['Algorithm', ...t.columns.map((c) => c.name), 'Avg'];
  const body = t.rows
    .map((r) => `<tr><th scope="row">${htmlEscape(r.label)}</th>${r.cells.map((c) => `<td${c.n < c.expected ? ' class="missing"' : ''}>${htmlEscape(formatCell(c, '±'))}</td>`).join('')}<td>${avgText(r)}</td></tr>`)
    .join('\n');
  return `<table data-selection="${htmlEscape(t.selection)}" data-dataset="${htmlEscape(t.dataset)}">\n<thead><tr>${head.map((h) => `<th scope="col">${htmlEscape(h)}</th>`).join('')}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table>`;
}
