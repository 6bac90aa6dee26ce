import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import type { Algorithm } from '../api/algorithm.js';
import type { TrainingHook } from '../api/hook.js';
import type { Network } from '../api/network.js';
import type { Quantizer } from '../api/quantizer.js';
import { DataError, RunError } from '../errors.js';
import { loadWeights, saveWeights } from '../results/weights-file.js';
import type { SamplerState } from './sampler.js';

export const RUN_STATE_FORMAT = 'qtdog-run-state/1';

/** Trainer bookkeeping that a resumed run must continue from. */
export interface TrainerCounters {
  bestScore: number;
  bestStep: number;
  skipped: number;
  elapsedSec: number;
  evalTimeTotal: number;
  evalCount: number;
  trainTimeTotal: number;
}

/** Everything needed to continue a run exactly after `step` (its checkpoint already written). */
export interface RunState {
  step: number;
  configHash: string;
  quantizerActive: boolean;
  samplers: SamplerState[];
  /** Per environment, its `readCount` (augmentation stream position), where it has one. */
  envReads: Array<number | null>;
  counters: TrainerCounters;
  params: Record<string, tf.Tensor>;
  algorithm: { tensors: Record<string, tf.Tensor>; scalars: Record<string, number | number[]> };
  hooks: Array<{ tensors: Record<string, tf.Tensor>; scalars: Record<string, number | number[]> } | null>;
}

/**
 * Hash of a resolved config: a resumed run must have the same one. The output folder and the number
 * of data-parallel workers are left out (a sweep may resume a job with another number of workers;
 * that changes float rounding only).
 */
export function configHash(config: object): string {
  const { output: _output, train, ...rest } = config as { output?: unknown; train?: Record<string, unknown> };
  const { workers: _workers, ...trainRest } = train ?? {};
  return createHash('sha256').update(JSON.stringify({ ...rest, train: trainRest })).digest('hex').slice(0, 16);
}

/** Writes the full state of a run (atomically, keeping the previous one as `<dir>.prev`). */
export function saveRunState(
  dir: string,
  s: Omit<RunState, 'params' | 'algorithm' | 'hooks'>,
  network: Network,
  algorithm: Algorithm,
  hooks: TrainingHook[],
): void {
  const tensors: Record<string, tf.Tensor> = {};
  for (const p of network.params.all()) tensors[`param/${p.name}`] = p.variable;
  const algo = algorithm.getState?.() ?? { tensors: {}, scalars: {} };
  for (const [k, t] of Object.entries(algo.tensors)) tensors[`algorithm/${k}`] = t;
  // Hooks hand over new tensors (copies of their state): disposed once written.
  const hookTensors: tf.Tensor[] = [];
  const hookScalars = hooks.map((h, i) => {
    const st = h.getState?.();
    if (!st) return null;
    for (const [k, t] of Object.entries(st.tensors)) {
      tensors[`hook${i}/${k}`] = t;
      hookTensors.push(t);
    }
    return st.scalars;
  });
  try {
    saveWeights(dir, tensors, {
    kind: RUN_STATE_FORMAT,
    step: s.step,
    configHash: s.configHash,
    quantizerActive: s.quantizerActive,
    samplers: s.samplers,
    envReads: s.envReads,
    counters: { ...s.counters, bestScore: Number.isFinite(s.counters.bestScore) ? s.counters.bestScore : null },
    algorithmScalars: algo.scalars,
    hookScalars,
    });
  } finally {
    tf.dispose(hookTensors);
  }
}

function parseState(dir: string): RunState {
  const { tensors, manifest } = loadWeights(dir);
  const m = manifest.meta as Record<string, unknown>;
  if (m.kind !== RUN_STATE_FORMAT) {
    tf.dispose(Object.values(tensors));
    throw new DataError(`${dir}: not a run state (kind '${String(m.kind)}')`);
  }
  const pick = (prefix: string) =>
    Object.fromEntries(Object.entries(tensors).filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [k.slice(prefix.length), t]));
  const counters = m.counters as TrainerCounters & { bestScore: number | null };
  const hookScalars = (m.hookScalars as Array<Record<string, number | number[]> | null>) ?? [];
  return {
    step: m.step as number,
    configHash: m.configHash as string,
    quantizerActive: m.quantizerActive as boolean,
    samplers: m.samplers as SamplerState[],
    envReads: (m.envReads as Array<number | null>) ?? [],
    counters: { ...counters, bestScore: counters.bestScore ?? -Infinity },
    params: pick('param/'),
    algorithm: { tensors: pick('algorithm/'), scalars: (m.algorithmScalars as Record<string, number | number[]>) ?? {} },
    hooks: hookScalars.map((sc, i) => (sc ? { tensors: pick(`hook${i}/`), scalars: sc } : null)),
  };
}

/**
 * The newest readable run state in `dir` (then `<dir>.prev`), or null when there is none. A state
 * that fails its integrity check is reported through `log` and the previous one is used.
 */
export function loadLatestRunState(dir: string, log: (m: string) => void): RunState | null {
  for (const candidate of [dir, `${dir}.prev`]) {
    if (!existsSync(candidate)) continue;
    try {
      return parseState(candidate);
    } catch (e) {
      log(`checkpoint ${candidate} cannot be used: ${(e as Error).message}`);
    }
  }
  return null;
}

/** Puts a saved state back into the network, algorithm and hooks (the quantizer is switched first). */
export function restoreRunState(state: RunState, network: Network, algorithm: Algorithm, quantizer: Quantizer | undefined, hooks: TrainingHook[]): void {
  if (state.quantizerActive) quantizer?.onStep(state.step, network);
  const names = new Set(network.params.all().map((p) => p.name));
  const saved = new Set(Object.keys(state.params));
  const missing = [...names].filter((n) => !saved.has(n));
  const extra = [...saved].filter((n) => !names.has(n));
  if (missing.length || extra.length) {
    throw new RunError(`the checkpoint does not match the network: missing ${missing.join(', ') || 'none'}; unexpected ${extra.join(', ') || 'none'}`);
  }
  for (const p of network.params.all()) p.variable.assign(state.params[p.name]!);
  algorithm.setState?.(state.algorithm);
  hooks.forEach((h, i) => {
    const st = state.hooks[i];
    if (st) h.setState?.(st);
  });
}

export function disposeRunState(state: RunState): void {
  tf.dispose(Object.values(state.params));
  tf.dispose(Object.values(state.algorithm.tensors));
  for (const h of state.hooks) if (h) tf.dispose(Object.values(h.tensors));
}
