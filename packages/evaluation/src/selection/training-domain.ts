import { z } from 'zod';
import { definePlugin } from '@qtdog/core';
import { accOf, argmaxVal, countEnvironments, singleTestEnvRecords, type Choice, type ResultRecord, type SelectionMethod } from './selection-method.js';

/** A checkpoint's training-domain validation accuracy: the mean `out` accuracy of every environment but the test one. */
export function trainingDomainValAcc(record: ResultRecord, testEnv: number): number {
  const n = countEnvironments(record);
  const val: number[] = [];
  for (let e = 0; e < n; e++) if (e !== testEnv) val.push(accOf(record, e, 'out'));
  return val.reduce((a, b) => a + b, 0) / val.length;
}

/**
 * Training-domain validation (DomainBed's `IIDAccuracySelectionMethod`): in each run, the checkpoint
 * with the best mean `out` accuracy over the training environments; across draws, the best such score.
 */
export const trainingDomainValidation: SelectionMethod = {
  name: 'training-domain',
  title: 'training-domain validation set',
  runAcc(records: readonly ResultRecord[], testEnv: number): Choice | null {
    const choices = singleTestEnvRecords(records).map((r) => ({ valAcc: trainingDomainValAcc(r, testEnv), testAcc: accOf(r, testEnv, 'in'), step: r.step, record: r }));
    return argmaxVal(choices);
  },
};

export const trainingDomainPlugin = definePlugin({
  kind: 'selection',
  name: trainingDomainValidation.name,
  description: 'Training-domain validation: best mean out-split accuracy over training domains (DomainBed, arXiv 2007.01434)',
  options: z.object({}),
  create: () => trainingDomainValidation,
});
