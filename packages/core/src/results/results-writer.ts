import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Appends one JSON object per line to `results.jsonl`, each line written whole in one call. */
export class ResultsWriter {
  readonly path: string;

  constructor(readonly dir: string) {
    this.path = join(dir, 'results.jsonl');
  }

  append(record: Record<string, unknown>): void {
    appendFileSync(this.path, JSON.stringify(record) + '\n');
  }

  markDone(): void {
    writeFileSync(join(this.dir, 'done'), 'done\n');
  }
}

/** Reads a results.jsonl; a torn last line (from a killed writer) is dropped. */
export function readResults(path: string): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Record<string, unknown>[] = [];
  for (const [i, line] of lines.entries()) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      if (i >= lines.length - 2) break; // torn final line
      throw new Error(`${path}:${i + 1}: not valid JSON`);
    }
  }
  return out;
}
