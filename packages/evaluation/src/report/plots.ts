import type { TopLevelSpec } from 'vega-lite';
import { sweepAcc, groupRecords, type ResultRecord, type SelectionMethod } from '../selection/selection-method.js';
import type { LoadedRun, LoadedSweep } from './sweep-manifest.js';
import { mean, sampleStd } from '../stats.js';

/** A chart to draw: a file stem, a caption and a Vega-Lite spec with its data inlined. */
export interface PlotSpec {
  name: string;
  title: string;
  spec: TopLevelSpec;
}

/** A chart that could not be drawn, and why (the report says so instead of drawing an empty one). */
export interface SkippedPlot {
  name: string;
  reason: string;
}

const FONT = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
const CONFIG = { font: FONT, view: { stroke: '#ddd' }, axis: { gridColor: '#eee' }, legend: { labelLimit: 400 } } as const;
// Tick labels with a sensible precision: without a format, a domain of one value (every run at the
// same accuracy) labels its only tick with the raw number, e.g. 35.416667.
/** Percentages: at most one decimal. */
const PCT_AXIS = { format: '.1~f' } as const;
/** Counts (steps, bits): whole numbers only. */
const COUNT_AXIS = { format: 'd', tickMinStep: 1 } as const;
/** Other measures (sizes, radii, loss increases): three significant digits. */
const MEASURE_AXIS = { format: '.3~g' } as const;
const PCT = { field: 'acc', type: 'quantitative', title: 'accuracy (%)', scale: { zero: false }, axis: PCT_AXIS } as const;

const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, '-');
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/**
 * Learning curves of each single-test-environment setting: the test environment's `in` accuracy and
 * every training environment's `out` accuracy against the step, averaged over the finished runs of
 * each row label (all draws and trials), one panel per label.
 */
export function learningCurvePlots(sweep: LoadedSweep): Array<PlotSpec | SkippedPlot> {
  const out: Array<PlotSpec | SkippedPlot> = [];
  const done = sweep.runs.filter((r) => r.status === 'done' && r.info.testEnvs.length === 1);
  const settings = [...new Set(done.map((r) => JSON.stringify([r.info.dataset, r.info.testEnvs[0]])))].map((s) => JSON.parse(s) as [string, number]);
  for (const [dataset, testEnv] of settings) {
    const names = sweep.datasets[dataset]?.environments;
    const envName = (e: number) => (names?.[e] !== undefined ? `env ${e} (${names[e]})` : `env ${e}`);
    const values: Array<Record<string, unknown>> = [];
    for (const run of done.filter((r) => r.info.dataset === dataset && r.info.testEnvs[0] === testEnv)) {
      for (const rec of run.records) {
        for (let e = 0; num(rec[`env${e}_out_acc`]) !== undefined; e++) {
          const test = e === testEnv;
          const acc = num(rec[`env${e}_${test ? 'in' : 'out'}_acc`]);
          if (acc !== undefined) values.push({ label: run.info.label, step: rec.step, env: `${envName(e)}${test ? ' test, in' : ' train, out'}`, acc: 100 * acc });
        }
      }
    }
    out.push({
      name: `learning-curves-${safe(dataset)}-test-env-${testEnv}`,
      title: `Learning curves, ${dataset}, test environment ${testEnv}${names?.[testEnv] !== undefined ? ` (${names[testEnv]})` : ''} (mean over runs)`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values },
        facet: { field: 'label', type: 'nominal', title: null },
        columns: 2,
        spec: {
          width: 260,
          height: 180,
          mark: { type: 'line', point: true },
          encoding: {
            x: { field: 'step', type: 'quantitative', title: 'step', axis: COUNT_AXIS },
            y: { ...PCT, aggregate: 'mean' },
            color: { field: 'env', type: 'nominal', title: 'environment' },
          },
        },
      } as TopLevelSpec,
    });
  }
  if (settings.length === 0) out.push({ name: 'learning-curves', reason: 'no finished run with one test environment' });
  return out;
}

/** The last record of a run that holds `key`, if any. */
function lastWith(run: LoadedRun, key: string): ResultRecord | undefined {
  for (let i = run.records.length - 1; i >= 0; i--) if (run.records[i]![key] !== undefined) return run.records[i];
  return undefined;
}

/**
 * Flatness F(gamma) against gamma per row label, on training and test domains: the line is the mean
 * over the label's finished runs, the band +- the spread over random directions (each run's sample
 * standard deviation, averaged over its runs), so a reader sees whether the curves' gap exceeds the
 * Monte Carlo noise.
 */
export function flatnessPlots(sweep: LoadedSweep): Array<PlotSpec | SkippedPlot> {
  const out: Array<PlotSpec | SkippedPlot> = [];
  for (const dataset of [...new Set(sweep.runs.map((r) => r.info.dataset))]) {
    const rows = flatnessRows(sweep, dataset);
    const name = `flatness-${safe(dataset)}`;
    if (rows.length === 0) {
      out.push({ name, reason: `no flatness results for ${dataset} (add the flatness evaluator to the runs)` });
      continue;
    }
    const values = rows.flatMap((row) => [
      { label: row.label, domain: `${row.domain} domains`, radius: 0, F: 0, lo: 0, hi: 0 },
      ...row.radii.map((r, i) => ({ label: row.label, domain: `${row.domain} domains`, radius: r, F: row.mean[i], lo: row.mean[i]! - row.std[i]!, hi: row.mean[i]! + row.std[i]! })),
    ]);
    const samples = [...new Set(rows.map((r) => r.samples))].join('/');
    const x = { field: 'radius', type: 'quantitative', title: 'radius γ', axis: MEASURE_AXIS } as const;
    const color = { field: 'label', type: 'nominal', title: 'run' } as const;
    out.push({
      name,
      title: `Flatness F(γ) = E[L(w+γd) − L(w)] against the radius γ, ${dataset} (mean over runs; band: ± std over ${samples} random directions)`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values },
        facet: { column: { field: 'domain', type: 'nominal', title: null, sort: ['train domains', 'test domains'] } },
        spec: {
          width: 280,
          height: 200,
          layer: [
            { mark: { type: 'errorband', opacity: 0.2 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'loss increase F(γ)', axis: MEASURE_AXIS }, y2: { field: 'hi' }, color } },
            { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'F', type: 'quantitative', title: 'loss increase F(γ)', axis: MEASURE_AXIS }, color } },
          ],
        },
      } as TopLevelSpec,
    });
  }
  return out;
}

/** One label's flatness on one side (training or test domains): means over its runs. */
export interface FlatnessRow {
  label: string;
  domain: 'train' | 'test';
  radii: number[];
  /** Mean over runs of F(gamma). */
  mean: number[];
  /** Mean over runs of the spread (sample std) over directions. */
  std: number[];
  /** Spread of F(gamma) between runs (sample std over runs; 0 for one run). */
  runStd: number[];
  /** Mean loss at the unperturbed weights. */
  baseLoss: number;
  runs: number;
  samples: number;
}

/** The flatness results of a dataset's finished runs, per row label and side, in sweep order. */
export function flatnessRows(sweep: LoadedSweep, dataset: string): FlatnessRow[] {
  const groups = new Map<string, Array<{ radii: number[]; f: number[]; std: number[]; base: number; samples: number }>>();
  for (const run of sweep.runs.filter((r) => r.status === 'done' && r.info.dataset === dataset)) {
    const rec = lastWith(run, 'flatness.radii');
    if (!rec) continue;
    for (const domain of ['train', 'test'] as const) {
      const f = rec[`flatness.${domain}`] as number[] | undefined;
      if (!f?.length) continue;
      const key = JSON.stringify([run.info.label, domain]);
      const std = (rec[`flatness.${domain}Std`] as number[] | undefined) ?? f.map(() => 0);
      const base = num(rec[domain === 'train' ? 'flatness.baseTrainLoss' : 'flatness.baseTestLoss']) ?? NaN;
      groups.set(key, [...(groups.get(key) ?? []), { radii: rec['flatness.radii'] as number[], f, std, base, samples: num(rec['flatness.samples']) ?? 0 }]);
    }
  }
  return [...groups.entries()].map(([key, runs]) => {
    const [label, domain] = JSON.parse(key) as [string, 'train' | 'test'];
    const radii = runs[0]!.radii;
    const at = (i: number, pick: (r: (typeof runs)[number]) => number[]) => runs.map((r) => pick(r)[i]!);
    return {
      label,
      domain,
      radii,
      mean: radii.map((_, i) => mean(at(i, (r) => r.f))),
      std: radii.map((_, i) => mean(at(i, (r) => r.std))),
      runStd: radii.map((_, i) => sampleStd(at(i, (r) => r.f))),
      baseLoss: mean(runs.map((r) => r.base)),
      runs: runs.length,
      samples: Math.min(...runs.map((r) => r.samples)),
    };
  });
}

interface SelectedPoint {
  dataset: string;
  label: string;
  algorithm: string;
  bits: number;
  testEnv: number;
  trialSeed: number;
  acc: number;
  run: LoadedRun;
}

/** The selected test accuracy of every (row label, test environment, trial) under one method. */
export function selectedPoints(sweep: LoadedSweep, method: SelectionMethod): SelectedPoint[] {
  const done = sweep.runs.filter((r) => r.status === 'done');
  const runOf = new Map<ResultRecord, LoadedRun>();
  for (const run of done) for (const rec of run.records) runOf.set(rec, run);
  const key = (r: ResultRecord) => JSON.stringify([runOf.get(r)!.info.dataset, runOf.get(r)!.info.label]);
  const points: SelectedPoint[] = [];
  for (const g of groupRecords(done.flatMap((r) => r.records), key, (k) => k)) {
    const c = sweepAcc(method, g.records, g.testEnv);
    if (!c) continue;
    const run = runOf.get(c.record)!;
    points.push({ dataset: run.info.dataset, label: run.info.label, algorithm: run.info.algorithm, bits: run.info.bits, testEnv: g.testEnv, trialSeed: g.trialSeed, acc: 100 * c.testAcc, run });
  }
  return points;
}

/** Selected test accuracy against the bits of the weights (32 = float), one line per algorithm. */
export function accuracyVsBitsPlots(sweep: LoadedSweep, method: SelectionMethod): Array<PlotSpec | SkippedPlot> {
  const points = selectedPoints(sweep, method);
  const out: Array<PlotSpec | SkippedPlot> = [];
  for (const dataset of [...new Set(sweep.runs.map((r) => r.info.dataset))]) {
    const values = points.filter((p) => p.dataset === dataset).map((p) => ({ algorithm: p.algorithm, bits: p.bits, acc: p.acc, testEnv: `env ${p.testEnv}` }));
    const name = `accuracy-vs-bits-${safe(dataset)}`;
    if (new Set(values.map((v) => v.bits)).size < 2) {
      out.push({ name, reason: `fewer than two weight precisions with results for ${dataset}` });
      continue;
    }
    out.push({
      name,
      title: `Test accuracy (${method.title}) against weight bits, ${dataset}; points: trials and test environments, line: mean`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values },
        width: 360,
        height: 240,
        layer: [
          { mark: { type: 'point', filled: true, opacity: 0.6 }, encoding: { x: { field: 'bits', type: 'quantitative', title: 'bits per weight', scale: { zero: false }, axis: COUNT_AXIS }, y: PCT, color: { field: 'algorithm', type: 'nominal' }, shape: { field: 'testEnv', type: 'nominal', title: 'test env' } } },
          { mark: { type: 'line', point: false }, encoding: { x: { field: 'bits', type: 'quantitative' }, y: { ...PCT, aggregate: 'mean' }, color: { field: 'algorithm', type: 'nominal' } } },
        ],
      } as TopLevelSpec,
    });
  }
  return out;
}

/** Selected test accuracy against the model's packed size (the compression evaluator's numbers). */
export function accuracyVsSizePlots(sweep: LoadedSweep, method: SelectionMethod): Array<PlotSpec | SkippedPlot> {
  const points = selectedPoints(sweep, method);
  const out: Array<PlotSpec | SkippedPlot> = [];
  for (const dataset of [...new Set(sweep.runs.map((r) => r.info.dataset))]) {
    const values: Array<Record<string, unknown>> = [];
    for (const p of points.filter((q) => q.dataset === dataset)) {
      const rec = lastWith(p.run, 'compression.packedBytes');
      const bytes = num(rec?.['compression.packedBytes']);
      if (bytes !== undefined) values.push({ label: p.label, sizeMB: bytes / 2 ** 20, acc: p.acc, testEnv: `env ${p.testEnv}` });
    }
    const name = `accuracy-vs-size-${safe(dataset)}`;
    if (values.length === 0) {
      out.push({ name, reason: `no model sizes for ${dataset} (add the compression evaluator to the runs)` });
      continue;
    }
    out.push({
      name,
      title: `Test accuracy (${method.title}) against model size, ${dataset}`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        config: CONFIG,
        data: { values },
        width: 360,
        height: 240,
        mark: { type: 'point', filled: true, size: 60 },
        encoding: {
          x: { field: 'sizeMB', type: 'quantitative', title: 'model size (MiB, packed)', scale: { zero: false }, axis: MEASURE_AXIS },
          y: PCT,
          color: { field: 'label', type: 'nominal', title: 'run' },
          shape: { field: 'testEnv', type: 'nominal', title: 'test env' },
        },
      } as TopLevelSpec,
    });
  }
  return out;
}

export interface RenderedPlot {
  svg: string;
  png: Uint8Array;
  width: number;
  height: number;
}

/**
 * Renders a Vega-Lite spec headlessly: Vega's SVG renderer (no browser, no canvas), then resvg for
 * the PNG at twice the size. Both libraries load on first use, so importing this package stays cheap.
 */
export async function renderPlot(spec: TopLevelSpec): Promise<RenderedPlot> {
  const [vega, vl, { Resvg }] = await Promise.all([import('vega'), import('vega-lite'), import('@resvg/resvg-js')]);
  const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const image = new Resvg(svg, {
      fitTo: { mode: 'zoom', value: 2 },
      background: 'white',
      font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans', sansSerifFamily: 'DejaVu Sans' },
    }).render();
    return { svg, png: image.asPng(), width: image.width, height: image.height };
  } finally {
    view.finalize();
  }
}

export function isPlotSpec(p: PlotSpec | SkippedPlot): p is PlotSpec {
  return 'spec' in p;
}
