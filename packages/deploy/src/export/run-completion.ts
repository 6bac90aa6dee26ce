import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '@qtdog/core';

/** Whether a run folder holds a finished run (its `done` marker) and how far it got. */
export interface RunCompletion {
  finished: boolean;
  /** Step of the last results.jsonl line (undefined: none yet). */
  lastStep?: number;
  steps?: number;
}

export function runCompletion(runDir: string): RunCompletion {
  const finished = existsSync(join(runDir, 'done'));
  let lastStep: number | undefined;
  try {
    const lines = readFileSync(join(runDir, 'results.jsonl'), 'utf8').trim().split('\n').filter(Boolean);
    lastStep = lines.length ? (JSON.parse(lines[lines.length - 1]!) as { step?: number }).step : undefined;
  } catch {
    lastStep = undefined; // no results yet
  }
  let steps: number | undefined;
  try {
    steps = (JSON.parse(readFileSync(join(runDir, 'config.json'), 'utf8')) as { train?: { steps?: number } }).train?.steps;
  } catch {
    steps = undefined;
  }
  return { finished, lastStep, steps };
}

/**
 * Exporting an unfinished run is refused unless `allowUnfinished`: it would silently ship early
 * weights. Returns the warning to print when it is allowed.
 */
export function checkRunFinished(runDir: string, allowUnfinished: boolean): string | undefined {
  const c = runCompletion(runDir);
  if (c.finished) return undefined;
  const progress = c.lastStep === undefined ? 'no checkpoint yet' : `last checkpoint at step ${c.lastStep}${c.steps ? ` of ${c.steps}` : ''}`;
  if (!allowUnfinished) {
    throw new ConfigError(`${runDir} is an unfinished run (no 'done' file; ${progress}): pass --allow-unfinished to export its current checkpoint anyway`);
  }
  return `warning: ${runDir} is an unfinished run (${progress}); exporting its current checkpoint`;
}
