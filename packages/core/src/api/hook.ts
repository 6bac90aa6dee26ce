import type { EvaluationContext } from './evaluation-context.js';
import type { Network } from './network.js';

export interface CheckpointInfo {
  step: number;
  record: Record<string, unknown>;
}

/** Training hooks (weight averaging and the like). Every method is optional. */
export interface TrainingHook {
  readonly name: string;
  afterStep?(step: number, network: Network, losses: Record<string, number>): void;
  /** May return 'stop' to end training early (for example when SWAD's loss valley ends). */
  onCheckpoint?(info: CheckpointInfo, network: Network): void | 'stop';
  /**
   * At the end of training. What it returns is written to the run folder's `final.json` under the
   * hook's name (for example the averaged model's accuracies).
   */
  onEnd?(network: Network, ctx: EvaluationContext): void | Record<string, unknown> | Promise<void | Record<string, unknown>>;
  /** State to keep in checkpoints (resume). The returned tensors are new copies: the trainer disposes them. */
  getState?(): { tensors: Record<string, import('@tensorflow/tfjs-core').Tensor>; scalars: Record<string, number | number[]> };
  /** Restores from a checkpoint. Copy what you keep: the trainer disposes the state's tensors afterwards. */
  setState?(state: { tensors: Record<string, import('@tensorflow/tfjs-core').Tensor>; scalars: Record<string, number | number[]> }): void;
  dispose?(): void;
}
