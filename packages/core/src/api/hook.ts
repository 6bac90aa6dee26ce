import type { Network } from './network.js';

export interface CheckpointInfo {
  step: number;
  record: Record<string, unknown>;
}

/** Training hooks (weight averaging and the like). Every method is optional. */
export interface TrainingHook {
  readonly name: string;
  afterStep?(step: number, network: Network, losses: Record<string, number>): void;
  /** May return 'stop' to end training early. */
  onCheckpoint?(info: CheckpointInfo, network: Network): void | 'stop';
  onEnd?(network: Network): void | Promise<void>;
  dispose?(): void;
}
