import type { LoadedConfig } from '../config/load-config.js';

/** What a data-parallel worker needs to build the same network and algorithm as the main thread. */
export interface WorkerInit {
  loaded: LoadedConfig;
  /** Packages (or files) whose exported ContainerModules the run uses, e.g. '@qtdog/algorithms'. */
  moduleSpecifiers: string[];
  outDir: string;
  backend: string;
}

export interface Part {
  x: Float32Array;
  y: Int32Array;
  n: number;
  env: number;
}

export type ParamValues = Record<string, Float32Array>;

export type WorkerRequest =
  | { id: number; kind: 'grads'; step: number; version: number; params?: ParamValues; parts: Part[]; shape: [number, number, number] }
  | { id: number; kind: 'predict'; version: number; params?: ParamValues; x: Float32Array; n: number; shape: [number, number, number] };

export type WorkerReply =
  | { id: number; kind: 'ready' }
  | {
      id: number;
      kind: 'grads';
      losses: Record<string, number>;
      grads: Record<string, { data: Float32Array; shape: number[] }>;
      /** Non-trainable parameters after the step (BatchNorm running statistics, EMA ranges). */
      buffers: Record<string, Float32Array>;
      numTensors: number;
    }
  | { id: number; kind: 'predict'; logits: Float32Array; classes: number; numTensors: number }
  | { id: number; kind: 'error'; message: string };
