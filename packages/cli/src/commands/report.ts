import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Command } from 'commander';
import { createPluginContainer, RunError } from '@qtdog/core';
import { ENSEMBLES_FILE, writeReport, type SelectionMethod } from '@qtdog/evaluation';
import { builtinModules } from '../builtin-modules.js';
import { computeSweepEnsembles } from './sweep-ensembles.js';

export interface ReportCommandOptions {
  out?: string;
  html?: boolean;
  plots?: boolean;
  ensembles?: boolean;
}

/** Every registered selection method (one table each), in the order DomainBed prints them. */
export async function selectionMethods(): Promise<SelectionMethod[]> {
  const { container, registry } = createPluginContainer(builtinModules());
  const order = ['training-domain', 'leave-one-out', 'oracle'];
  const defs = registry.list('selection').sort((a, b) => ((order.indexOf(a.name) + 1 || 99) - (order.indexOf(b.name) + 1 || 99)));
  return Promise.all(defs.map(async (d) => (await d.create({}, { container, seed: 0, baseDir: process.cwd(), log: () => {} })) as SelectionMethod));
}

export async function reportCommand(sweepDir: string, opts: ReportCommandOptions): Promise<void> {
  if (!existsSync(sweepDir)) throw new RunError(`${sweepDir}: no such sweep folder`);
  if (opts.ensembles) {
    const e = await computeSweepEnsembles(sweepDir, (m) => process.stderr.write(`${m}\n`));
    process.stderr.write(`ensembles: ${e.groups.length} settings with 2 or more finished trials, written to ${join(sweepDir, ENSEMBLES_FILE)}\n`);
  }
  const r = await writeReport(sweepDir, { outDir: opts.out, html: opts.html, plots: opts.plots, methods: await selectionMethods() });
  if (r.counts.jobs === 0) throw new RunError(`${sweepDir}: no runs found (expected a sweep.json from qtdog sweep, or run folders with results.jsonl)`);
  const rel = (p: string) => {
    const r = relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  process.stdout.write(
    [
      `${r.counts.jobs} jobs: ${r.counts.done} finished, ${r.counts.unfinished} unfinished or failed, ${r.counts.notStarted} not started`,
      ...r.unfinished.map((j) => `  unfinished: ${rel(j.dir)} (${j.label})${j.failure ? `: ${j.failure}` : ''}`),
      `wrote ${r.files.length} files to ${rel(r.outDir)}: results.md, results.tex, results.json${opts.html ? ', report.html' : ''}, ${r.plots.length} plots (SVG + PNG)`,
      ...r.skipped.map((s) => `plot ${s.name} not drawn: ${s.reason}`),
      '',
    ].join('\n'),
  );
}

/** Adds `qtdog report` to the program. */
export function registerReportCommand(program: Command): void {
  program
    .command('report')
    .description('DomainBed-style tables (Markdown, LaTeX, JSON) and plots (SVG, PNG) of a sweep folder')
    .argument('<sweep-dir>', 'folder written by qtdog sweep')
    .option('-o, --out <dir>', 'output folder (default: <sweep-dir>/report)')
    .option('--html', 'also write report.html, one self-contained page (tables and images inlined)')
    .option('--no-plots', 'tables only')
    .option('--ensembles', "first ensemble each setting's finished trials (EoQ; EoA-style for float runs) into <sweep-dir>/ensembles.json; needs the runs' checkpoints")
    .action(async (dir: string, opts: ReportCommandOptions) => reportCommand(dir, opts));
}
