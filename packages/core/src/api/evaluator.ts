import type { EvaluationContext } from './evaluation-context.js';

/**
 * An evaluator measures something about the model at every checkpoint or only at the end (the last
 * checkpoint). Its result is stored in that checkpoint's results.jsonl line under `<name>.<key>`.
 */
export interface Evaluator {
  readonly name: string;
  readonly when: 'checkpoint' | 'end';
  evaluate(ctx: EvaluationContext): Promise<Record<string, unknown>>;
  dispose?(): void;
}
