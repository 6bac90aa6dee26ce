import Table from 'cli-table3';

/** A cli-table3 table without colours: the CLI's tables are also read in logs and CI output. */
export function plainTable(head: string[]): InstanceType<typeof Table> {
  return new Table({ head, style: { head: [], border: [] } });
}
