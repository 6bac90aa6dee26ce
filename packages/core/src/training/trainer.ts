import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { Algorithm, Minibatch } from '../api/algorithm.js';
import type { DomainDataset, EnvironmentData } from '../api/dataset.js';
import type { EvaluationContext, PredictFn } from '../api/evaluation-context.js';
import type { Evaluator } from '../api/evaluator.js';
import type { TrainingHook } from '../api/hook.js';
import type { Network } from '../api/network.js';
import type { Quantizer } from '../api/quantizer.js';
import { checkTestEnvs, type ResolvedRunConfig } from '../config/resolve-config.js';
import { RunError } from '../errors.js';
import { seedHash } from '../math/rng.js';
import { ResultsWriter } from '../results/results-writer.js';
import { saveWeights } from '../results/weights-file.js';
import { evaluateAccuracy } from './evaluate.js';
import { disposeRunState, restoreRunState, saveRunState, type RunState, type TrainerCounters } from './run-state.js';
import { InfiniteSampler } from './sampler.js';
import { splitEnvironment, type Split } from './splits.js';
import { yieldToEventLoop } from './yield-to-event-loop.js';

export interface Progress {
  step: number;
  steps: number;
  loss: number;
  imagesPerSec: number;
  etaSec: number;
  phase: 'train' | 'eval';
}

export interface TrainerOptions {
  config: ResolvedRunConfig;
  configFile: string;
  configHash: string;
  dataset: DomainDataset;
  network: Network;
  algorithm: Algorithm;
  quantizer?: Quantizer;
  hooks: TrainingHook[];
  evaluators?: Evaluator[];
  outDir: string;
  backend: string;
  /** What computes, in words (e.g. 'wasm + oneDNN 2.6.3 (2 threads)'; recorded in results). */
  engine?: string;
  /** Number of data-parallel workers (recorded in results). */
  workers?: number;
  /** Largest live tensor count in a worker thread, if any (recorded in results). */
  workerNumTensors?: () => number;
  /**
   * Continue from this saved state (its results.jsonl lines up to `resume.step` are kept). The
   * trainer disposes the state's tensors once restored.
   */
  resume?: { state: RunState; records: Record<string, unknown>[] };
  log?: (msg: string) => void;
  onProgress?: (p: Progress) => void;
}

export interface RunSummary {
  outDir: string;
  steps: number;
  records: Record<string, unknown>[];
  /** Checkpoint chosen by training-domain validation. */
  best: Record<string, unknown>;
  last: Record<string, unknown>;
  environments: string[];
  testEnvs: number[];
  wallTimeSec: number;
  /** What hooks returned at the end (also in final.json). */
  final: Record<string, unknown>;
  /** Step the run resumed after, if it was resumed. */
  resumedFrom?: number;
}

/** Folder of the full run state (weights, optimizer, samplers, counters) written at checkpoints. */
export const STATE_DIR = 'checkpoints/state';

/**
 * DomainBed's training loop: each step takes one minibatch from every training environment and calls
 * `algorithm.update`; every `checkpointFreq` steps (and at the last step) it evaluates every
 * environment's in/out splits, appends a line to results.jsonl, saves the best and last weights and
 * the full run state, from which an interrupted run resumes with identical results.
 */
export class Trainer {
  constructor(private readonly o: TrainerOptions) {}

  async run(): Promise<RunSummary> {
    const { config, dataset, network, algorithm, quantizer, hooks, log = () => {} } = this.o;
    const evaluators = this.o.evaluators ?? [];
    const started = Date.now();
    const envs = await dataset.load();
    const names = envs.map((e) => e.name);
    const testEnvs = config.dataset.testEnvs;
    checkTestEnvs(testEnvs, names, dataset.name, this.o.configFile);
    const splits: Split[] = envs.map((e, i) => splitEnvironment(e.size, config.dataset.holdoutFraction, config.trialSeed, i));
    const trainEnvs = envs.map((_, i) => i).filter((i) => !testEnvs.includes(i));
    const samplers = trainEnvs.map((i) => new InfiniteSampler(splits[i]!.in, seedHash(config.trialSeed, i, 'sampler')));
    const batchSize = Number(config.algorithm.options.batchSize ?? 32);
    const [h, w, c] = dataset.inputShape;
    const writer = new ResultsWriter(this.o.outDir);
    const steps = config.train.steps;
    const freq = config.train.checkpointFreq;
    const minTrainSize = Math.min(...trainEnvs.map((i) => splits[i]!.in.length));

    const evaluateAll = async (predict: PredictFn): Promise<Record<string, number>> => {
      const out: Record<string, number> = {};
      for (const [i, env] of envs.entries()) {
        for (const part of ['in', 'out'] as const) {
          const r = await evaluateAccuracy(predict, env as EnvironmentData, splits[i]![part], [h, w, c], config.train.evalBatchSize);
          out[`env${i}_${part}_acc`] = r.acc;
          out[`env${i}_${part}_loss`] = r.loss;
        }
      }
      return out;
    };
    const evalContext = (step: number): EvaluationContext => ({
      step,
      network,
      algorithm,
      quantizer,
      environments: envs,
      splits,
      trainEnvs,
      testEnvs,
      inputShape: [h, w, c],
      evalBatchSize: config.train.evalBatchSize,
      outDir: this.o.outDir,
      seed: seedHash(config.trialSeed, 'evaluation', step),
      evaluateAll,
    });

    const records: Record<string, unknown>[] = [];
    let best: Record<string, unknown> | undefined;
    const counters: TrainerCounters = {
      bestScore: -Infinity,
      bestStep: -1,
      skipped: 0,
      elapsedSec: 0,
      evalTimeTotal: 0,
      evalCount: 0,
      trainTimeTotal: 0,
    };
    let firstStep = 0;
    const resume = this.o.resume;
    if (resume) {
      restoreRunState(resume.state, network, algorithm, quantizer, hooks);
      // Everything restored holds copies (variables assigned, setState copies): free the loaded
      // tensors now, or a resumed run carries a second set of weights and optimizer moments to its end.
      disposeRunState(resume.state);
      resume.state.samplers.forEach((s, k) => samplers[k]!.setState(s));
      resume.state.envReads.forEach((n, i) => {
        if (n !== null && envs[i] && envs[i]!.readCount !== undefined) envs[i]!.readCount = n;
      });
      Object.assign(counters, resume.state.counters);
      records.push(...resume.records);
      best = records.find((r) => r.step === counters.bestStep);
      firstStep = resume.state.step + 1;
      log(`resuming after step ${resume.state.step} (${records.length} checkpoint(s) kept)`);
    }
    const elapsed = () => counters.elapsedSec + (Date.now() - started) / 1000;

    let lossSums: Record<string, number> = {};
    let lossCount = 0;
    let stepTimeSum = 0;

    const checkpoint = async (step: number): Promise<'stop' | void> => {
      const t0 = performance.now();
      this.o.onProgress?.({ step, steps, loss: lossSums.loss! / Math.max(1, lossCount), imagesPerSec: 0, etaSec: NaN, phase: 'eval' });
      const record: Record<string, unknown> = { step, epoch: ((step + 1) * batchSize) / minTrainSize };
      for (const [k, v] of Object.entries(lossSums)) record[k] = v / Math.max(1, lossCount);
      record.stepTime = stepTimeSum / Math.max(1, lossCount);
      const predict: PredictFn = (x) => (algorithm.predictAsync ? algorithm.predictAsync(x) : algorithm.predict(x));
      const ctx = evalContext(step);
      Object.assign(record, await ctx.evaluateAll(predict));
      const isLast = step === steps - 1;
      for (const ev of evaluators) {
        if (ev.when === 'end' && !isLast) continue;
        const out = await ev.evaluate(ctx);
        for (const [k, v] of Object.entries(out)) record[`${ev.name}.${k}`] = v;
      }
      const trainOut = trainEnvs.map((i) => record[`env${i}_out_acc`] as number);
      const valAcc = trainOut.reduce((a, b) => a + b, 0) / trainOut.length;
      record.trainDomainValAcc = valAcc;
      record.skippedSteps = counters.skipped;
      record.quantized = quantizer?.active ?? false;
      record.backend = this.o.backend;
      if (this.o.engine) record.engine = this.o.engine;
      record.numTensors = tf.memory().numTensors;
      record.workers = this.o.workers ?? 1;
      if (this.o.workerNumTensors) record.workerNumTensors = this.o.workerNumTensors();
      record.rssMB = Math.round(process.memoryUsage().rss / 2 ** 20);
      record.wallTime = elapsed();
      record.config = config;
      writer.append(record);
      records.push(record);
      const improved = valAcc > counters.bestScore;
      if (improved) {
        counters.bestScore = valAcc;
        counters.bestStep = step;
        best = record;
      }
      if (config.train.saveCheckpoints) {
        const tensors = Object.fromEntries(network.params.all().map((p) => [p.name, p.variable as tf.Tensor]));
        if (improved) saveWeights(join(this.o.outDir, 'checkpoints/best'), tensors, { step, network: network.name, trainDomainValAcc: valAcc });
        saveWeights(join(this.o.outDir, 'checkpoints/last'), tensors, { step, network: network.name, quantizer: quantizer?.name ?? null });
      }
      lossSums = {};
      lossCount = 0;
      stepTimeSum = 0;
      counters.evalTimeTotal += performance.now() - t0;
      counters.evalCount++;
      let stop: 'stop' | void = undefined;
      for (const hook of hooks) if (hook.onCheckpoint?.({ step, record }, network) === 'stop') stop = 'stop';
      // The run state comes last: whatever it records has already been written.
      saveRunState(
        join(this.o.outDir, STATE_DIR),
        {
          step,
          configHash: this.o.configHash,
          quantizerActive: quantizer?.active ?? false,
          samplers: positions.samplers,
          envReads: positions.envReads,
          counters: { ...counters, elapsedSec: elapsed() },
        },
        network,
        algorithm,
        hooks,
      );
      return stop;
    };

    // The next step's minibatches are read while the current step trains (image decoding runs in
    // libuv threads). Sampler and augmentation positions are captured before each read, so the run
    // state written at a checkpoint is the one from which the next step's read repeats exactly.
    const issueReads = () => {
      const before = { samplers: samplers.map((s) => s.getState()), envReads: envs.map((e) => e.readCount ?? null) };
      const batches = Promise.all(trainEnvs.map(async (envIdx, k) => envs[envIdx]!.read(samplers[k]!.next(batchSize), 'train')));
      // Failures surface when the batches are awaited; keep the promise from counting as unhandled.
      batches.catch(() => {});
      return { before, batches };
    };
    let nextReads = firstStep < steps ? issueReads() : undefined;
    let positions = { samplers: samplers.map((s) => s.getState()), envReads: envs.map((e) => e.readCount ?? null) };

    const nCheckpoints = Math.floor((steps - 1) / freq) + 1 + ((steps - 1) % freq === 0 ? 0 : 1);
    for (let step = firstStep; step < steps; step++) {
      quantizer?.onStep(step, network);
      const batches = await nextReads!.batches;
      nextReads = step + 1 < steps ? issueReads() : undefined;
      positions = nextReads ? nextReads.before : { samplers: samplers.map((s) => s.getState()), envReads: envs.map((e) => e.readCount ?? null) };
      const t0 = performance.now();
      const minibatches: Minibatch[] = batches.map((b, k) => ({
        x: tf.tensor4d(b.x, [b.n, h, w, c]),
        y: tf.tensor1d(b.y, 'int32'),
        env: k,
      }));
      let losses: Record<string, number>;
      try {
        losses = await algorithm.update(minibatches, step);
      } finally {
        for (const m of minibatches) tf.dispose([m.x, m.y]);
      }
      const dt = performance.now() - t0;
      counters.trainTimeTotal += dt;
      const bad = Object.entries(losses).filter(([, v]) => !Number.isFinite(v));
      if (bad.length > 0) {
        const terms = Object.entries(losses).map(([k, v]) => `${k}=${v}`).join(', ');
        if (config.train.onNonFinite === 'skip') {
          counters.skipped++;
          log(`step ${step}: non-finite loss (${terms}); batch skipped`);
        } else {
          throw new RunError(
            `step ${step}: ${config.algorithm.type} produced a non-finite loss (${terms}); the run stopped. The last good checkpoint is in ${join(this.o.outDir, 'checkpoints/last')} (set train.onNonFinite: skip to skip such batches instead)`,
          );
        }
      } else {
        for (const [k, v] of Object.entries(losses)) lossSums[k] = (lossSums[k] ?? 0) + v;
        lossCount++;
      }
      stepTimeSum += dt / 1000;
      for (const hook of hooks) hook.afterStep?.(step, network, losses);
      const meanStep = counters.trainTimeTotal / 1000 / (step + 1);
      const meanEval = counters.evalCount ? counters.evalTimeTotal / 1000 / counters.evalCount : meanStep * 10;
      this.o.onProgress?.({
        step,
        steps,
        loss: losses.loss ?? NaN,
        imagesPerSec: (batchSize * trainEnvs.length) / (dt / 1000),
        etaSec: meanStep * (steps - step - 1) + meanEval * Math.max(0, nCheckpoints - counters.evalCount),
        phase: 'train',
      });
      if (step % freq === 0 || step === steps - 1) {
        if ((await checkpoint(step)) === 'stop') {
          log(`step ${step}: a hook asked to stop training early`);
          break;
        }
      }
      await yieldToEventLoop();
    }
    const final: Record<string, unknown> = {};
    const lastStep = (records[records.length - 1]?.step as number) ?? steps - 1;
    for (const hook of hooks) {
      const out = await hook.onEnd?.(network, evalContext(lastStep));
      if (out) final[hook.name] = out;
    }
    if (Object.keys(final).length > 0) writeFileSync(join(this.o.outDir, 'final.json'), JSON.stringify(final, null, 2));
    writer.markDone();
    return {
      outDir: this.o.outDir,
      steps,
      records,
      best: best ?? records[records.length - 1]!,
      last: records[records.length - 1]!,
      environments: names,
      testEnvs,
      wallTimeSec: elapsed(),
      final,
      resumedFrom: resume?.state.step,
    };
  }
}
