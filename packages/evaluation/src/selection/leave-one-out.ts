import { z } from 'zod';
import { definePlugin } from '@qtdog/core';
import { accOf, argmaxVal, countEnvironments, singleTestEnvRecords, type Choice, type ResultRecord, type SelectionMethod } from './selection-method.js';

/**
 * Leave-one-domain-out cross-validation (DomainBed's `LeaveOneOutSelectionMethod`). For test
 * environment t, a draw needs the run with test envs [t] and, for every other environment v, a run
 * with test envs [t, v]; at each step the score is the mean over v of run [t, v]'s `in` accuracy on
 * v, and the reported number is run [t]'s `in` accuracy on t at the best-scoring step.
 */
export const leaveOneDomainOut: SelectionMethod = {
  name: 'leave-one-out',
  title: 'leave-one-domain-out cross-validation',
  runAcc(records: readonly ResultRecord[], testEnv: number): Choice | null {
    const bySteps = new Map<number, ResultRecord[]>();
    for (const r of records) {
      const list = bySteps.get(r.step);
      if (list) list.push(r);
      else bySteps.set(r.step, [r]);
    }
    const choices: Choice[] = [];
    for (const [step, stepRecords] of bySteps) {
      const test = singleTestEnvRecords(stepRecords);
      if (test.length !== 1) continue;
      const testRecord = test[0]!;
      const n = countEnvironments(stepRecords[0]!);
      const val = new Array<number | undefined>(n).fill(undefined);
      for (const r of stepRecords) {
        const envs = r.config.dataset.testEnvs;
        if (envs.length !== 2 || !envs.includes(testEnv)) continue;
        const v = envs[0] === testEnv ? envs[1]! : envs[0]!;
        val[v] = accOf(r, v, 'in');
      }
      const others = val.filter((_, e) => e !== testEnv);
      if (others.some((v) => v === undefined)) continue;
      const valAcc = (others as number[]).reduce((a, b) => a + b, 0) / (n - 1);
      choices.push({ valAcc, testAcc: accOf(testRecord, testEnv, 'in'), step, record: testRecord });
    }
    return argmaxVal(choices);
  },
};

export const leaveOneOutPlugin = definePlugin({
  kind: 'selection',
  name: leaveOneDomainOut.name,
  description: 'Leave-one-domain-out cross-validation: runs with two test domains validate on the held-out one (DomainBed, arXiv 2007.01434)',
  options: z.object({}),
  create: () => leaveOneDomainOut,
});
