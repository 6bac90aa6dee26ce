import { z } from 'zod';
import { fieldMeta, schemaFields } from './schema-fields.js';

/** What a step option counts, and what goes wrong when the run ends before it is reached. */
export interface StepOptionMeta {
  /** 'step': the option is a training step; 'checkpoint': a number of checkpoints. */
  readonly counts: 'step' | 'checkpoint';
  /** What never happens if the run ends first, e.g. "quantization never starts: the run trains in float". */
  readonly neverReached: string;
  /** 'error' refuses the config; 'warn' only says so (the run still makes sense, e.g. an annealing schedule). */
  readonly severity: 'error' | 'warn';
}

/** Marks the options that refer to a point in training, so a run too short to reach them is caught at config time. */
export const StepOptions = z.registry<StepOptionMeta>();

/** Marks `schema` (a number option) as referring to a step or a count of checkpoints. */
export function stepOption<S extends z.ZodType>(schema: S, meta: StepOptionMeta): S {
  StepOptions.add(schema, meta);
  return schema;
}

/** The marked options of `schema` with their metadata. */
export function stepOptionsOf(schema: z.ZodType): Array<[string, StepOptionMeta]> {
  return schemaFields(schema).flatMap(([key, field]) => {
    const meta = fieldMeta<StepOptionMeta>(StepOptions, field);
    return meta ? [[key, meta] as [string, StepOptionMeta]] : [];
  });
}

/** Checkpoints of a run: step 0, every `checkpointFreq` steps, and the last step (DomainBed's). */
export function checkpointCount(steps: number, checkpointFreq: number): number {
  const last = steps - 1;
  return Math.floor(last / checkpointFreq) + 1 + (last % checkpointFreq === 0 ? 0 : 1);
}

/**
 * The problem with one step option's value in a run of `steps` steps, or undefined when the run
 * reaches it. `where` is the option's "<file>: <key path>".
 */
export function stepOptionProblem(where: string, value: number, meta: StepOptionMeta, train: { steps: number; checkpointFreq: number }): string | undefined {
  if (meta.counts === 'step') {
    if (value < train.steps) return undefined;
    return `${where}: ${value} is not below train.steps (${train.steps}), so the run ends first: ${meta.neverReached}; set it below ${train.steps} or raise train.steps`;
  }
  const have = checkpointCount(train.steps, train.checkpointFreq);
  if (value <= have) return undefined;
  return `${where}: ${value} checkpoints needed, but the run has ${have} (train.steps: ${train.steps}, train.checkpointFreq: ${train.checkpointFreq}): ${meta.neverReached}; lower it or checkpoint more often`;
}
