import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { SelectionMethod } from '../selection/selection-method.js';
import { accuracyVsBitsPlots, accuracyVsSizePlots, flatnessPlots, isPlotSpec, learningCurvePlots, renderPlot, type SkippedPlot } from './plots.js';
import { loadSweep, type LoadedSweep } from './sweep-manifest.js';
import { buildStepTimeTables, stepTimeTableToHtml, stepTimeTableToMarkdown, type StepTimeTable } from './step-times.js';
import { buildFlatnessTables, FLATNESS_LEGEND, flatnessTableToHtml, flatnessTableToMarkdown, type FlatnessTable } from './flatness-table.js';
import { ENSEMBLES_LEGEND, ensembleRows, ensemblesToHtml, ensemblesToMarkdown, readSweepEnsembles, type EnsembleRowCells, type SweepEnsembles } from './sweep-ensembles.js';
import { buildTables, htmlEscape as esc, tableToHtml, tableToLatex, tableToMarkdown, type ResultsTable } from './tables.js';

export interface ReportOptions {
  /** Output folder (default `<sweep-dir>/report`). */
  outDir?: string;
  /** Also write `report.html`: one self-contained page, images inlined. */
  html?: boolean;
  /** Selection methods, one table each (the CLI passes every registered `selection` plugin). */
  methods: readonly SelectionMethod[];
  /** Skip the plots (tables only). */
  plots?: boolean;
}

export interface ReportPlot {
  name: string;
  title: string;
  svg: string;
  png: string;
  width: number;
  height: number;
}

export interface ReportResult {
  outDir: string;
  files: string[];
  tables: ResultsTable[];
  /** Time per training step of each row and its ratio to ERM, per dataset. */
  stepTimes: StepTimeTable[];
  plots: ReportPlot[];
  skipped: SkippedPlot[];
  /** Flatness at the end of the runs, per dataset (empty without the flatness evaluator). */
  flatness: FlatnessTable[];
  /** The sweep's ensembles.json (written by `qtdog report --ensembles`), if any. */
  ensembles: SweepEnsembles | null;
  counts: { jobs: number; done: number; unfinished: number; notStarted: number };
  /** Jobs that started but did not finish: their folders and, from their logs, why. */
  unfinished: UnfinishedJob[];
}

export interface UnfinishedJob {
  id: string;
  dir: string;
  label: string;
  failure?: string;
}

/** The started-but-unfinished jobs of a sweep (failed, interrupted or still running), with why from their logs. */
export function unfinishedJobs(sweep: LoadedSweep): UnfinishedJob[] {
  return sweep.runs
    .filter((r) => r.status === 'unfinished')
    .map((r) => ({
      id: r.id,
      dir: r.dir,
      label: `${r.info.label} ${r.info.dataset} test [${r.info.testEnvs.join(',')}] trial ${r.info.trialSeed} draw ${r.info.draw}`,
      ...(r.failure ? { failure: r.failure } : {}),
    }));
}

const unfinishedLine = (j: UnfinishedJob) => `${j.dir} (${j.label})${j.failure ? `: ${j.failure}` : ''}`;

function runCounts(sweep: LoadedSweep) {
  const c = { jobs: sweep.runs.length, done: 0, unfinished: 0, notStarted: 0 };
  for (const r of sweep.runs) {
    if (r.status === 'done') c.done++;
    else if (r.status === 'unfinished') c.unfinished++;
    else c.notStarted++;
  }
  return c;
}

const pngDataUri = (png: Uint8Array) => `data:image/png;base64,${Buffer.from(png).toString('base64')}`;

function countsLine(c: ReportResult['counts']): string {
  return `${c.jobs} jobs: ${c.done} finished, ${c.unfinished} unfinished or failed, ${c.notStarted} not started`;
}

const LEGEND =
  'Cells: test-environment accuracy (its `in` split, %) of the selected checkpoint, mean ± standard error over trials ' +
  '(DomainBed: population standard deviation / √n). "(n/m)": only n of the m trials have a result; "X": none has.';

const STEP_TIME_LEGEND =
  'Mean training step time of each row\'s runs, finished or not (seconds, from their checkpoint records, first step excluded) and its ratio to ERM\'s. ' +
  'Times depend on what else shared the machine (a sweep running several jobs at once slows each): compare rows that ran alike.';

/**
 * `qtdog report`: DomainBed-style tables (Markdown, LaTeX, JSON) and plots (SVG, PNG) of a sweep
 * folder; with `html`, one self-contained page holding both.
 */
export async function writeReport(sweepDir: string, opts: ReportOptions): Promise<ReportResult> {
  const sweep = loadSweep(sweepDir);
  const outDir = resolve(opts.outDir ?? join(sweepDir, 'report'));
  mkdirSync(join(outDir, 'plots'), { recursive: true });
  const counts = runCounts(sweep);
  const unfinished = unfinishedJobs(sweep);
  const tables = buildTables(sweep, opts.methods);
  const stepTimes = buildStepTimeTables(sweep);
  const flatness = buildFlatnessTables(sweep);
  const ensembles = readSweepEnsembles(sweep.dir);
  const envName = (dataset: string, env: number) => sweep.datasets[dataset]?.environments[env];
  const ensembleTable: EnsembleRowCells[] = ensembles ? ensembleRows(ensembles, envName) : [];
  const files: string[] = [];
  const write = (name: string, content: string | Uint8Array) => {
    const path = join(outDir, name);
    writeFileSync(path, content);
    files.push(path);
  };

  const plots: ReportPlot[] = [];
  const skipped: SkippedPlot[] = [];
  const pngs = new Map<string, Uint8Array>();
  if (opts.plots !== false) {
    const method = opts.methods.find((m) => m.name === 'training-domain') ?? opts.methods[0];
    const candidates = [
      ...learningCurvePlots(sweep),
      ...flatnessPlots(sweep),
      ...(method ? [...accuracyVsBitsPlots(sweep, method), ...accuracyVsSizePlots(sweep, method)] : []),
    ];
    for (const c of candidates) {
      if (!isPlotSpec(c)) {
        skipped.push(c);
        continue;
      }
      const r = await renderPlot(c.spec);
      write(`plots/${c.name}.svg`, r.svg);
      write(`plots/${c.name}.png`, r.png);
      plots.push({ name: c.name, title: c.title, svg: `plots/${c.name}.svg`, png: `plots/${c.name}.png`, width: r.width, height: r.height });
      pngs.set(c.name, r.png);
    }
  }

  const methods = [...new Set(tables.map((t) => t.selection))];
  const md: string[] = [`# Results: ${sweep.name}`, '', countsLine(counts) + '.', ''];
  if (unfinished.length) md.push('Unfinished or failed jobs (their folders, and the last error of their logs):', '', ...unfinished.map((j) => `- \`${unfinishedLine(j)}\``), '');
  md.push(LEGEND, '');
  const tex: string[] = [`% Results of sweep ${sweep.name}: ${countsLine(counts)}`, '% needs \\usepackage{booktabs,adjustbox}', ''];
  for (const m of methods) {
    const ts = tables.filter((t) => t.selection === m);
    md.push(`## Model selection: ${ts[0]!.title}`, '');
    tex.push(`\\subsection{Model selection: ${ts[0]!.title}}`, '');
    for (const t of ts) {
      md.push(`### ${t.dataset}`, '');
      if (t.note) md.push(`*${t.note}.*`, '');
      md.push(tableToMarkdown(t), '');
      tex.push(`\\subsubsection{${t.dataset}}`, tableToLatex(t), '');
    }
  }
  if (stepTimes.length) md.push('## Time per step', '', STEP_TIME_LEGEND, '');
  for (const t of stepTimes) {
    md.push(`### ${t.dataset}`, '');
    if (t.note) md.push(`*${t.note}.*`, '');
    md.push(stepTimeTableToMarkdown(t), '');
  }
  if (flatness.length) md.push('## Flatness', '', FLATNESS_LEGEND, '');
  for (const t of flatness) md.push(`### ${t.dataset}`, '', flatnessTableToMarkdown(t), '');
  if (ensembleTable.length) md.push('## Ensembles of the trials (EoQ, and EoA-style for float runs)', '', ENSEMBLES_LEGEND, '', ensemblesToMarkdown(ensembleTable), '');
  if (plots.length || skipped.length) md.push('## Plots', '');
  for (const p of plots) md.push(`### ${p.title}`, '', `![${p.title}](${p.png})`, '', `SVG: [${p.svg}](${p.svg})`, '');
  for (const s of skipped) md.push(`- ${s.name}: not drawn, ${s.reason}.`);
  if (skipped.length) md.push('');
  write('results.md', md.join('\n'));
  write('results.tex', tex.join('\n'));
  write(
    'results.json',
    JSON.stringify({ sweep: sweep.name, counts, unfinished, tables, stepTimes, flatness, ensembles, plots, skipped }, null, 2) + '\n',
  );

  if (opts.html) {
    const sections = methods.map((m) => {
      const ts = tables.filter((t) => t.selection === m);
      return `<section><h2>Model selection: ${esc(ts[0]!.title)}</h2>\n${ts
        .map((t) => `<h3>${esc(t.dataset)}</h3>\n${t.note ? `<p class="note">${esc(t.note)}.</p>\n` : ''}${tableToHtml(t)}`)
        .join('\n')}</section>`;
    });
    const timeSection = stepTimes.length
      ? `<section><h2>Time per step</h2>\n<p class="note">${esc(STEP_TIME_LEGEND)}</p>\n${stepTimes
          .map((t) => `<h3>${esc(t.dataset)}</h3>\n${t.note ? `<p class="note">${esc(t.note)}.</p>\n` : ''}${stepTimeTableToHtml(t)}`)
          .join('\n')}</section>`
      : '';
    const flatnessSection = flatness.length
      ? `<section><h2>Flatness</h2>\n<p class="note">${esc(FLATNESS_LEGEND)}</p>\n${flatness.map((t) => `<h3>${esc(t.dataset)}</h3>\n${flatnessTableToHtml(t)}`).join('\n')}</section>`
      : '';
    const ensembleSection = ensembleTable.length
      ? `<section><h2>Ensembles of the trials (EoQ, and EoA-style for float runs)</h2>\n<p class="note">${esc(ENSEMBLES_LEGEND)}</p>\n${ensemblesToHtml(ensembleTable)}</section>`
      : '';
    const figures = plots.map(
      (p) =>
        `<figure><img src="${pngDataUri(pngs.get(p.name)!)}" width="${Math.round(p.width / 2)}" height="${Math.round(p.height / 2)}" alt="${esc(p.title)}"><figcaption>${esc(p.title)}</figcaption></figure>`,
    );
    const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<title>${esc(`qtdog report: ${sweep.name}`)}</title>
<style>
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border-bottom: 1px solid #ccc; padding: 0.3em 0.8em; text-align: right; white-space: nowrap; }
th[scope="row"], thead th:first-child { text-align: left; }
thead th { border-bottom: 2px solid #444; }
td.missing { color: #a33; }
.note { color: #666; font-style: italic; }
figure { margin: 1em 0 2em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; font-size: 0.9em; }
</style>
</head>
<body>
<h1>${esc(`Results: ${sweep.name}`)}</h1>
<p>${esc(countsLine(counts))}.</p>
${unfinished.length ? `<p>Unfinished or failed jobs:</p>\n<ul>${unfinished.map((j) => `<li><code>${esc(unfinishedLine(j))}</code></li>`).join('')}</ul>` : ''}
<p>${esc(LEGEND.replace(/`/g, ''))}</p>
${sections.join('\n')}
${timeSection}
${flatnessSection}
${ensembleSection}
${figures.length ? `<section><h2>Plots</h2>\n${figures.join('\n')}</section>` : ''}
${skipped.length ? `<ul>${skipped.map((s) => `<li>${esc(s.name)}: not drawn, ${esc(s.reason)}.</li>`).join('')}</ul>` : ''}
</body>
</html>
`;
    write('report.html', page);
  }
  return { outDir, files, tables, stepTimes, flatness, ensembles, plots, skipped, counts, unfinished };
}
