import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selectBackend, type BackendPreference } from '@qtdog/engine';
import { ensembleRuns, readRunConfig } from '@qtdog/quantizers';
import { ENSEMBLES_FILE, ensembleGroups, loadSweep, type SweepEnsembleGroup, type SweepEnsembles } from '@qtdog/evaluation';
import { builtinModules } from '../builtin-modules.js';

/**
 * Ensembles every setting of a sweep over its finished trials (each at its 'best' checkpoint, the
 * training-domain validation choice) and writes the sweep folder's ensembles.json, which
 * `qtdog report` renders. Needs the runs' checkpoints: run it on the sweep folder, not a snapshot.
 */
export async function computeSweepEnsembles(sweepDir: string, log: (m: string) => void): Promise<SweepEnsembles> {
  const sweep = loadSweep(sweepDir);
  const groups = ensembleGroups(sweep);
  const out: SweepEnsembles = { format: 'qtdog-ensembles/1', sweep: sweep.name, groups: [] };
  if (groups.length) await selectBackend(readRunConfig(groups[0]!.runs[0]!.dir).train.backend as BackendPreference, log);
  for (const g of groups) {
    log(`ensemble: ${g.label}, ${g.dataset}, test [${g.testEnvs.join(',')}]: ${g.runs.length} trials`);
    const r = await ensembleRuns(
      g.runs.map((run) => run.dir),
      { modules: builtinModules(), checkpoint: 'best', log },
    );
    const entry: SweepEnsembleGroup = {
      label: g.label,
      dataset: g.dataset,
      testEnvs: g.testEnvs,
      draw: g.draw,
      checkpoint: r.checkpoint,
      members: r.members.map((m, i) => ({
        id: g.runs[i]!.id,
        trialSeed: g.runs[i]!.info.trialSeed,
        step: m.step,
        trainDomainValAcc: m.trainDomainValAcc,
        packedBytes: m.packedBytes,
        testAcc: g.testEnvs.map((e) => m.accuracy.find((a) => a.env === e)!.acc),
      })),
      ensemble: {
        testAcc: g.testEnvs.map((e) => r.ensemble.accuracy.find((a) => a.env === e)!.acc),
        packedBytes: r.ensemble.packedBytes,
        float32Bytes: r.ensemble.float32Bytes,
        sizeVsOneFloatModel: r.ensemble.sizeVsOneFloatModel,
      },
    };
    out.groups.push(entry);
  }
  writeFileSync(join(sweepDir, ENSEMBLES_FILE), JSON.stringify(out, null, 2) + '\n');
  return out;
}
