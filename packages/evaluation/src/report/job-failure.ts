import { existsSync, readFileSync } from 'node:fs';

/**
 * Why a job stopped, from its log: the last line the CLI printed for an error
 * (`qtdog: data error: image folder ... does not exist`), else the last non-empty line. Undefined
 * when there is no log.
 */
export function jobFailure(logFile: string): string | undefined {
  if (!existsSync(logFile)) return undefined;
  let text: string;
  try {
    text = readFileSync(logFile, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean);
  const error = [...lines].reverse().find((l) => l.startsWith('qtdog: '));
  const line = error ?? lines.at(-1);
  // A log line can be long (a stack trace's first line); the table cell and report stay readable.
  return line === undefined ? undefined : line.length > 300 ? `${line.slice(0, 300)}...` : line;
}
