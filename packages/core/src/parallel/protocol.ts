import * as tf from '@tensorflow/tfjs-core';
import type { Minibatch } from '../api/algorithm.js';
import type { LoadedConfig } from '../config/load-config.js';
import type { ReduceBlock } from './all-reduce.js';
import type { SharedFloats } from './shared-floats.js';

/** What a data-parallel worker needs to build the same network and algorithm as the main thread. */
export interface WorkerInit {
  loaded: LoadedConfig;
  /** Packages (or files) whose exported ContainerModules the run uses, e.g. '@qtdog/algorithms'. */
  moduleSpecifiers: string[];
  outDir: string;
  /** The main thread's resolved backend preference ('onednn' where its native kernels are on). */
  backend: string;
  /** oneDNN threads for the worker's own kernels, where they are on. */
  nativeThreads?: number;
}

export interface Part {
  x: Float32Array;
  y: Int32Array;
  n: number;
  env: number;
  /** The part's first row in the environment's whole minibatch (Minibatch.firstRow). */
  firstRow: number;
}

/** Where a worker's own time went while it answered a gradient request, in ms. */
export interface WorkerTimings {
  /** Reading the weights from shared memory into its backend. */
  params: number;
  /** Its algorithm's computeGradients. */
  grads: number;
  /** Writing gradients and buffers to shared memory. */
  pack: number;
  /** When it took the request and when it replied, in ms since the epoch (performance.timeOrigin based). */
  start: number;
  end: number;
}

/** Parts as the algorithm's minibatches, [n, h, w, c] each; the caller disposes them. */
export function partMinibatches(parts: Part[], [h, w, c]: readonly [number, number, number]): Minibatch[] {
  return parts.map((p) => ({ x: tf.tensor4d(p.x, [p.n, h, w, c]), y: tf.tensor1d(p.y, 'int32'), env: p.env, firstRow: p.firstRow }));
}

export type WorkerRequest =
  | {
      id: number;
      kind: 'grads';
      step: number;
      version: number;
      params?: SharedFloats;
      parts: Part[];
      shape: [number, number, number];
      /** The main thread's `workerState()`, applied before the step. */
      algorithmState?: Record<string, number | number[]>;
      /** The exchange for gradientShares (instead of computeGradients), and this worker's part in it. */
      reduce?: ReduceBlock;
      part: number;
    }
  | { id: number; kind: 'predict'; version: number; params?: SharedFloats; x: Float32Array; n: number; shape: [number, number, number] };

export type WorkerReply =
  | { id: number; kind: 'ready' }
  | {
      id: number;
      kind: 'grads';
      losses: Record<string, number>;
      /** In the worker's own shared buffer; valid until the worker's next request. */
      grads: SharedFloats;
      /** Non-trainable parameters after the step (BatchNorm running statistics, EMA ranges). */
      buffers: SharedFloats;
      numTensors: number;
      ms: WorkerTimings;
    }
  | { id: number; kind: 'predict'; logits: Float32Array; classes: number; numTensors: number }
  | { id: number; kind: 'error'; message: string };
