// Issue 4's table: every algorithm of the zoo, one column pair per dataset (test accuracy under
// training-domain validation; time per step and its ratio to ERM), built from committed files only:
//   - each REPORT_DIR holds a `qtdog report` output (results.json) of a zoo sweep;
//   - each --swad DIR holds a snapshot (tools/results/snapshot-sweep.sh) of a SWAD sweep, whose
//     jobs' final.json carry the averaged model's accuracies. SWAD's row reads the averaged model:
//     SWAD replaces checkpoint selection by the average over the loss valley.
//
//   node tools/results/zoo-table.mjs docs/results/zoo-rmnist docs/results/zoo-cmnist \
//       --swad docs/results/zoo-rmnist-swad/raw --swad docs/results/zoo-cmnist-swad/raw
//
// Prints Markdown. A cell with no finished run reads "—"; the step times come from the report's
// step-time table (mean over runs of each run's mean step after step 0).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStepTime } from '@qtdog/evaluation';

const args = process.argv.slice(2);
const reports = [];
const swads = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--swad') swads.push(args[++i]);
  else reports.push(args[i]);
}
if (reports.length === 0) {
  console.error('usage: node tools/results/zoo-table.mjs REPORT_DIR... [--swad SWAD_RAW_DIR]...');
  process.exit(2);
}

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'));
const readJsonl = (p) =>
  readFileSync(p, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l));

/** column: { dataset, testEnv, envName, acc: Map<label, {mean, err, n}>, time: Map<label, {seconds, ratio, workers}> } */
const columns = [];
const order = [];
const note = (label) => {
  if (!order.includes(label)) order.push(label);
};
for (const dir of reports) {
  const r = readJson(join(dir, 'results.json'));
  for (const t of r.tables.filter((t) => t.selection === 'training-domain')) {
    for (const [ci, c] of t.columns.entries()) {
      const acc = new Map();
      for (const row of t.rows) {
        const cell = row.cells[ci];
        note(row.label);
        if (cell && cell.n > 0) acc.set(row.label, { mean: cell.mean, err: cell.err, n: cell.n });
      }
      const st = (r.stepTimes ?? []).find((s) => s.dataset === t.dataset);
      const time = new Map((st?.rows ?? []).map((row) => [row.label, { seconds: row.seconds, ratio: row.ratioToErm, workers: row.workers }]));
      columns.push({ dataset: t.dataset, testEnv: c.testEnv, envName: c.name, acc, time });
    }
  }
}

// SWAD rows: each finished job of each snapshot, matched to the column of its dataset and test env.
for (const dir of swads) {
  for (const id of readdirSync(dir)) {
    const job = join(dir, id);
    if (!existsSync(join(job, 'config.json')) || !existsSync(join(job, 'final.json'))) continue;
    const config = readJson(join(job, 'config.json'));
    const final = readJson(join(job, 'final.json')).SWAD;
    if (!final) continue;
    const [testEnv] = config.dataset.testEnvs;
    const col = columns.find((c) => c.dataset === config.dataset.type && c.testEnv === testEnv);
    if (!col) continue;
    const label = `${config.algorithm.type}+SWAD`;
    note(label);
    col.acc.set(label, { mean: final[`env${testEnv}_in_acc`], err: null, n: 1, swad: final });
    const seconds = runStepTime(readJsonl(join(job, 'results.jsonl')));
    const erm = col.time.get('ERM');
    const workers = [config.train?.workers].filter((w) => typeof w === 'number');
    if (seconds !== null) col.time.set(label, { seconds, ratio: erm ? seconds / erm.seconds : null, workers });
  }
}

const pct = (a) => (a ? `${(100 * a.mean).toFixed(1)}${a.err !== null && a.n > 1 ? ` ± ${(100 * a.err).toFixed(1)}` : ''}` : '—');
const head = ['Algorithm'];
for (const c of columns) head.push(`${c.dataset} env ${c.testEnv} (${c.envName}) acc %`, 's / step', '× ERM');
const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i === 0 ? ':---' : '---:')).join('|')}|`];
for (const label of order) {
  const cells = [label];
  for (const c of columns) {
    const t = c.time.get(label);
    cells.push(pct(c.acc.get(label)), t ? t.seconds.toFixed(2) : '—', t && t.ratio !== null ? t.ratio.toFixed(2) : '—');
  }
  lines.push(`| ${cells.join(' | ')} |`);
}
console.log(lines.join('\n'));

// What the SWAD rows averaged, and under what conditions every row's time was taken.
const warned = new Set();
for (const c of columns) {
  for (const [label, a] of c.acc) {
    if (!a.swad) continue;
    const s = a.swad;
    const what = s.converged
      ? `averaged steps ${s.startStep} to ${s.endStep} over ${s.segments} segment(s)`
      : 'no loss valley found: the row is the average of the last segment only (the steps since the previous checkpoint), as SWAD falls back to';
    console.log(
      `\n${label} on ${c.dataset}: ${what}; ` +
        `valley ${s.valleyEnded ? 'ended (early stop)' : 'still open at the last step'}; ` +
        `training-domain validation ${(100 * s.trainDomainValAcc).toFixed(1)}%.`,
    );
  }
  const workers = new Set([...c.time.values()].map((t) => (t.workers ?? []).join(',')));
  if (workers.size > 1 && !warned.has(c.dataset)) {
    warned.add(c.dataset);
    console.log(`\n${c.dataset}: rows ran with different worker counts (${[...workers].join(' / ')}): times are not comparable.`);
  }
}
