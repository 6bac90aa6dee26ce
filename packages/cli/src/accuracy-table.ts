import { plainTable } from './plain-table.js';

/** Per-environment accuracy table of one checkpoint record (test environments marked). */
export function accuracyTable(record: Record<string, unknown>, environments: string[], testEnvs: number[]): string {
  const table = plainTable(['env', 'name', 'role', 'in acc', 'out acc']);
  const pct = (v: unknown) => (typeof v === 'number' ? `${(100 * v).toFixed(2)}%` : '-');
  environments.forEach((name, i) => {
    table.push([String(i), name, testEnvs.includes(i) ? 'TEST' : 'train', pct(record[`env${i}_in_acc`]), pct(record[`env${i}_out_acc`])]);
  });
  return table.toString();
}
