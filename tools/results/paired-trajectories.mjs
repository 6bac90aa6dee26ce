#!/usr/bin/env node
// Paired comparison of two rows of a sweep along their learning curves. Runs of the same dataset,
// test environments, trial and draw share their data split, initial weights and batches, so a
// quantized run and its float twin follow the same trajectory until the quantizer switches on.
// Checkpoint selection then picks one of a few checkpoints whose test-domain accuracy swings by
// several points, which can hide or invent a difference between the rows. This prints, for every
// pair of finished runs, the difference (treated - base) in test-domain accuracy at each checkpoint
// from --from on, its mean over those checkpoints, and the difference at each run's own
// training-domain-validation checkpoint; then the mean ± standard error over pairs of both.
// Where both runs of a pair measured flatness at the end (on the same seeded directions and
// examples), it also prints the paired difference of F(γ) on the training and the test domains.
// Supplementary to DomainBed's protocol (which the report follows), not a replacement for it.
//   node tools/results/paired-trajectories.mjs SWEEP_DIR [--base ERM] [--treated ERM+QT-DoG] [--from STEP]
// --from defaults to the first checkpoint at or after the treated runs' quantizer start step.
import { parseArgs } from 'node:util';
import { accOf, loadSweep, mean, standardError, trainingDomainValAcc, trainingDomainValidation } from '@qtdog/evaluation';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { base: { type: 'string', default: 'ERM' }, treated: { type: 'string', default: 'ERM+QT-DoG' }, from: { type: 'string' } },
});
const dir = positionals[0];
if (!dir) {
  console.error('usage: paired-trajectories.mjs SWEEP_DIR [--base LABEL] [--treated LABEL] [--from STEP]');
  process.exit(2);
}
const sweep = loadSweep(dir);
const done = sweep.runs.filter((r) => r.status === 'done');
const key = (r) => `${r.info.dataset} test [${r.info.testEnvs.join(',')}] trial ${r.info.trialSeed} draw ${r.info.draw}`;

const labels = new Set(sweep.runs.map((r) => r.info.label));
for (const l of [values.base, values.treated]) {
  if (!labels.has(l)) {
    console.error(`${dir}: no row labelled '${l}' (rows: ${[...labels].join(', ')})`);
    process.exit(1);
  }
}
const pairs = [];
for (const t of done.filter((r) => r.info.label === values.treated)) {
  const b = done.find((r) => r.info.label === values.base && key(r) === key(t));
  if (b) pairs.push({ key: key(t), base: b, treated: t });
}
if (pairs.length === 0) {
  console.log(`${dir}: no finished pair of '${values.base}' and '${values.treated}' runs yet`);
  process.exit(0);
}
// The end-of-run flatness of a run (its last record that carries one), or undefined.
const flatnessOf = (run) => [...run.records].reverse().find((r) => Array.isArray(r['flatness.radii']));
// Treated minus base F(γ) per radius on train and test domains, when both measured the same radii.
function flatnessDiff(base, treated) {
  const b = flatnessOf(base);
  const t = flatnessOf(treated);
  if (!b || !t || b['flatness.radii'].join() !== t['flatness.radii'].join()) return undefined;
  const d = (k) => t[k].map((x, i) => x - b[k][i]);
  return { radii: b['flatness.radii'], train: d('flatness.train'), test: d('flatness.test'), base: b, treated: t };
}
// Signed with 3 decimals, without a "-0.000" for a rounding-level negative.
const signed3 = (x) => { const r = x.toFixed(3); return Number(r) === 0 ? '+0.000' : `${x > 0 ? '+' : ''}${r}`; };
const pct = (x) => (100 * x).toFixed(1);
const signed = (x) => `${x >= 0 ? '+' : ''}${(100 * x).toFixed(1)}`;
console.log(`# ${values.treated} - ${values.base}, test-domain accuracy (in split, points), paired runs of ${dir}\n`);
const perPair = [];
for (const p of pairs) {
  if (p.treated.info.testEnvs.length !== 1) {
    console.error(`${p.treated.dir}: holds out ${p.treated.info.testEnvs.length} environments; this tool compares runs with one test environment`);
    process.exit(1);
  }
  const testEnv = p.treated.info.testEnvs[0];
  const test = (rec) => accOf(rec, testEnv, 'in');
  const start = values.from !== undefined ? Number(values.from) : (p.treated.records[0]?.config?.quantizer?.options?.startStep ?? 0);
  const bRecs = new Map(p.base.records.map((r) => [r.step, r]));
  const rows = p.treated.records.filter((r) => r.step >= start && bRecs.has(r.step));
  const diffs = rows.map((r) => test(r) - test(bRecs.get(r.step)));
  // Each run's training-domain-validation checkpoint, as the report's table picks it.
  const sb = trainingDomainValidation.runAcc(p.base.records, testEnv);
  const st = trainingDomainValidation.runAcc(p.treated.records, testEnv);
  const selDiff = st.testAcc - sb.testAcc;
  perPair.push({ meanDiff: mean(diffs), selDiff, flat: flatnessDiff(p.base, p.treated) });
  console.log(`## ${p.key}: ${p.base.id} (${values.base}) against ${p.treated.id} (${values.treated}), checkpoints from step ${start}\n`);
  console.log(`| step | ${values.base} test | ${values.treated} test | difference | ${values.base} train-domain val | ${values.treated} train-domain val |`);
  console.log('|---:|---:|---:|---:|---:|---:|');
  rows.forEach((r, i) => {
    const br = bRecs.get(r.step);
    console.log(`| ${r.step} | ${pct(test(br))} | ${pct(test(r))} | ${signed(diffs[i])} | ${pct(trainingDomainValAcc(br, testEnv))} | ${pct(trainingDomainValAcc(r, testEnv))} |`);
  });
  const f = perPair.at(-1).flat;
  if (f) {
    console.log(`\nflatness at the end, F(γ) = mean loss rise at radius γ (${f.base['flatness.samples']} directions):\n`);
    console.log(`| domains | γ | ${values.base} | ${values.treated} | difference |`);
    console.log('|---|---:|---:|---:|---:|');
    for (const dom of ['train', 'test']) {
      f.radii.forEach((g, i) => console.log(`| ${dom} | ${g} | ${f.base[`flatness.${dom}`][i].toFixed(3)} | ${f.treated[`flatness.${dom}`][i].toFixed(3)} | ${signed3(f[dom][i])} |`));
    }
  }
  console.log(`\nmean difference over these ${rows.length} checkpoints: ${signed(mean(diffs))}; at the training-domain-validation checkpoints (${values.base} step ${sb.step}: ${pct(sb.testAcc)}, ${values.treated} step ${st.step}: ${pct(st.testAcc)}): ${signed(selDiff)}\n`);
}
const se = (xs) => (xs.length > 1 ? ` ± ${(100 * standardError(xs)).toFixed(1)}` : '');
console.log(`## Over ${pairs.length} pair(s) (mean ± standard error over pairs)\n`);
console.log(`- mean over checkpoints of the paired difference: ${signed(mean(perPair.map((p) => p.meanDiff)))}${se(perPair.map((p) => p.meanDiff))}`);
console.log(`- difference at the selected checkpoints: ${signed(mean(perPair.map((p) => p.selDiff)))}${se(perPair.map((p) => p.selDiff))}`);
const flat = perPair.filter((p) => p.flat);
if (flat.length > 0) {
  const radii = flat[0].flat.radii;
  console.log(`- flatness, ${values.treated} minus ${values.base} F(γ) over the ${flat.length} pair(s) that measured it (negative: ${values.treated} flatter):`);
  for (const dom of ['train', 'test']) {
    const cells = radii.map((g, i) => {
      const xs = flat.map((p) => p.flat[dom][i]);
      const sd = xs.length > 1 ? ` ± ${standardError(xs).toFixed(3)}` : '';
      return `F(${g}) ${signed3(mean(xs))}${sd} (flatter in ${xs.filter((x) => x < 0).length}/${xs.length})`;
    });
    console.log(`  - ${dom} domains: ${cells.join('; ')}`);
  }
}
