import { z } from 'zod';
import { definePlugin } from '@qtdog/core';
import { accOf, singleTestEnvRecords, type Choice, type ResultRecord, type SelectionMethod } from './selection-method.js';

/**
 * Test-domain validation, the oracle (DomainBed's `OracleSelectionMethod`): the last checkpoint of
 * each run (no early stopping), draws ranked by the test environment's `out` accuracy.
 */
export const testDomainOracle: SelectionMethod = {
  name: 'oracle',
  title: 'test-domain validation set (oracle)',
  runAcc(records: readonly ResultRecord[], testEnv: number): Choice | null {
    const test = singleTestEnvRecords(records);
    if (test.length === 0) return null;
    // The last checkpoint; a stable sort keeps the first of equal steps, so take the last of those.
    const last = test.reduce((a, b) => (b.step >= a.step ? b : a));
    return { valAcc: accOf(last, testEnv, 'out'), testAcc: accOf(last, testEnv, 'in'), step: last.step, record: last };
  },
};

export const oraclePlugin = definePlugin({
  kind: 'selection',
  name: testDomainOracle.name,
  description: 'Test-domain validation (oracle): last checkpoint, draws ranked by test-domain out accuracy (DomainBed, arXiv 2007.01434)',
  options: z.object({}),
  create: () => testDomainOracle,
});
