import * as tf from '@tensorflow/tfjs-core';
import { ConfigError, type EnvironmentData, type Network } from '@qtdog/core';
import { encodeModel, runExportHeader } from './export/export-model.js';
import { exportByteSize } from './export/export-format.js';
import { restoreRun, type RestoredRun, type RestoreOptions } from './export/restore-run.js';

/** Mean of the members' logits (each [n, classes]); EoQ predicts its argmax. */
export function meanLogits(logits: tf.Tensor2D[]): tf.Tensor2D {
  return tf.tidy(() => tf.div(tf.addN(logits), logits.length) as tf.Tensor2D);
}

/**
 * EoQ, the ensemble of quantized models of QT-DoG (Javed et al., arXiv 2410.06020): the members'
 * evaluation-mode logits (fake-quantized as trained) averaged; the prediction is their argmax.
 */
export class LogitEnsemble {
  constructor(readonly members: readonly Network[]) {
    if (members.length === 0) throw new ConfigError('an ensemble needs at least one member');
  }

  /** Every member's logits on a batch. */
  memberLogits(x: tf.Tensor4D): tf.Tensor2D[] {
    return this.members.map((m) => m.predict(x, false));
  }

  predict(x: tf.Tensor4D): tf.Tensor2D {
    return tf.tidy(() => meanLogits(this.memberLogits(x)));
  }
}

export interface EnvAccuracy {
  env: number;
  name: string;
  test: boolean;
  /** Examples evaluated: the whole environment (its in and out splits together). */
  n: number;
  acc: number;
}

export interface EnsembleMemberReport {
  run: string;
  step: number;
  trainDomainValAcc: number | null;
  quantizer: string | null;
  bits: number | null;
  quantizerActive: boolean;
  /** Size of its qtdog export (packed weights, float parts, manifest). */
  packedBytes: number;
  accuracy: EnvAccuracy[];
}

export interface EnsembleReport {
  dataset: string;
  environments: string[];
  testEnvs: number[];
  checkpoint: string;
  members: EnsembleMemberReport[];
  ensemble: {
    accuracy: EnvAccuracy[];
    /** Sum of the members' packed sizes. */
    packedBytes: number;
    /** Size of one member as a float32 export, and the ensemble's total relative to it (QT-DoG: 5 x 0.22 = 1.1x). */
    float32Bytes: number;
    sizeVsOneFloatModel: number;
  };
}

export interface EnsembleOptions extends RestoreOptions {
  /** Evaluation batch size (default: the first member's train.evalBatchSize). */
  batchSize?: number;
  /** Also evaluate the training environments (whole), not only the test environments. */
  allEnvs?: boolean;
}

function datasetKey(run: RestoredRun): string {
  const d = run.config.dataset;
  return JSON.stringify({ type: d.type, options: d.options, testEnvs: d.testEnvs });
}

/**
 * Accuracy of each member and of their logit average on whole environments (every example of each
 * test environment, in and out splits together, as QT-DoG evaluates EoQ), plus the packed sizes.
 */
export async function evaluateEnsemble(runs: RestoredRun[], opts: { batchSize?: number; allEnvs?: boolean } = {}): Promise<EnsembleReport> {
  const first = runs[0];
  if (!first) throw new ConfigError('an ensemble needs at least one run');
  for (const r of runs.slice(1)) {
    if (datasetKey(r) !== datasetKey(first)) {
      throw new ConfigError(`ensemble members must share the dataset and test environments: ${r.runDir} has ${datasetKey(r)}, ${first.runDir} has ${datasetKey(first)}`);
    }
  }
  const ensemble = new LogitEnsemble(runs.map((r) => r.network));
  const envs: EnvironmentData[] = await first.dataset.load();
  const testEnvs = first.config.dataset.testEnvs;
  const which = envs.map((_, i) => i).filter((i) => opts.allEnvs || testEnvs.includes(i));
  const batchSize = opts.batchSize ?? first.config.train.evalBatchSize;
  const [h, w, c] = first.dataset.inputShape;
  const memberAcc: EnvAccuracy[][] = runs.map(() => []);
  const ensembleAcc: EnvAccuracy[] = [];
  for (const e of which) {
    const env = envs[e]!;
    const correct = new Array<number>(runs.length + 1).fill(0);
    for (let start = 0; start < env.size; start += batchSize) {
      const idx = Int32Array.from({ length: Math.min(batchSize, env.size - start) }, (_, k) => start + k);
      const batch = await env.read(idx, 'eval');
      const hits = tf.tidy(() => {
        const x = tf.tensor4d(batch.x, [batch.n, h, w, c]);
        const y = tf.tensor1d(batch.y, 'int32');
        const logits = ensemble.memberLogits(x);
        const all = [...logits, meanLogits(logits)];
        return all.map((l) => tf.sum(tf.equal(tf.argMax(l, 1), y)).dataSync()[0]!);
      });
      hits.forEach((k, i) => (correct[i]! += k));
    }
    const entry = (i: number): EnvAccuracy => ({ env: e, name: env.name, test: testEnvs.includes(e), n: env.size, acc: correct[i]! / env.size });
    runs.forEach((_, i) => memberAcc[i]!.push(entry(i)));
    ensembleAcc.push(entry(runs.length));
  }
  const members: EnsembleMemberReport[] = runs.map((r, i) => ({
    run: r.runDir,
    step: r.step,
    trainDomainValAcc: (r.meta.trainDomainValAcc as number | undefined) ?? null,
    quantizer: r.config.quantizer?.type ?? null,
    bits: r.quantizer && r.quantizer.bits < 32 ? r.quantizer.bits : null,
    quantizerActive: r.quantizer?.active ?? false,
    packedBytes: exportByteSize(encodeModel(runExportHeader(r), r.network, r.quantizer)),
    accuracy: memberAcc[i]!,
  }));
  const packedBytes = members.reduce((a, m) => a + m.packedBytes, 0);
  const float32Bytes = exportByteSize(encodeModel(runExportHeader(first), first.network, first.quantizer, true));
  return {
    dataset: first.config.dataset.type,
    environments: envs.map((x) => x.name),
    testEnvs,
    checkpoint: first.checkpoint,
    members,
    ensemble: { accuracy: ensembleAcc, packedBytes, float32Bytes, sizeVsOneFloatModel: packedBytes / float32Bytes },
  };
}

/** `qtdog ensemble`: restores each run's checkpoint (best by default) and evaluates the ensemble. */
export async function ensembleRuns(runDirs: string[], opts: EnsembleOptions): Promise<EnsembleReport> {
  if (runDirs.length === 0) throw new ConfigError('ensemble: give at least one run folder');
  const runs: RestoredRun[] = [];
  try {
    for (const d of runDirs) runs.push(await restoreRun(d, opts));
    return await evaluateEnsemble(runs, opts);
  } finally {
    for (const r of runs) r.dispose();
  }
}
