import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { ConfigError, formatIssues, parseConfigText } from '@qtdog/core';

/** `Name` or `{ type: Name, ...options }`. */
const Section = z.union([z.string().min(1), z.looseObject({ type: z.string().min(1) })]);

/** A quantizer setting: `none` (float), or a quantizer section with an optional row name. */
const QuantizerSetting = z.union([
  z.literal('none'),
  z.null(),
  z.looseObject({
    type: z.string().min(1),
    /** Row label in reports (e.g. QT-DoG); default `<type>-<bits>b`. */
    name: z.string().min(1).optional(),
  }),
]);

export const SweepFileSchema = z.strictObject({
  /** Shown in reports; default: the file name. */
  name: z.string().min(1).optional(),
  /** Output folder, relative to the working directory (the CLI's --out overrides it). */
  output: z.string().optional(),
  /**
   * The run config every job starts from: a path (relative to this file) or the config inline. The
   * lists below replace its algorithm, quantizer, dataset, test environments and seeds.
   */
  base: z.union([z.string().min(1), z.record(z.string(), z.unknown())]),
  algorithms: z.array(Section).min(1),
  /** Default: the base config's quantizer, else none. */
  quantizers: z.array(QuantizerSetting).min(1).optional(),
  /** Default: the base config's dataset. */
  datasets: z.array(Section).min(1).optional(),
  /** Each entry is one job's `dataset.testEnvs`: [t] for the usual protocol, [t, v] for leave-one-out. */
  testEnvs: z.array(z.array(z.number().int().min(0)).min(1)).min(1),
  hparams: z
    .strictObject({
      /** Random-search draws per setting; draw 0 is the plugins' defaults (DomainBed: 20). */
      draws: z.number().int().positive().default(1),
      /** Seed of the random search. */
      seed: z.number().int().min(0).default(0),
    })
    .default({ draws: 1, seed: 0 }),
  /** Number of trials (trial seeds 0..n-1) or the list of trial seeds (DomainBed: 3). */
  trials: z.union([z.number().int().positive(), z.array(z.number().int().min(0)).min(1)]).default(1),
  /**
   * The order jobs start in: `settings` runs every trial of a setting before the next setting;
   * `trials-first` runs trial 0 of every setting, then trial 1, ..., so a sweep stopped part-way
   * (one continued over sessions) leaves every setting with comparable numbers of trials.
   */
  order: z.enum(['settings', 'trials-first']).default('settings'),
  /** How jobs are run (a launcher plugin). */
  launcher: z.looseObject({ type: z.string().min(1) }).default({ type: 'local' }),
});
export type SweepFile = z.output<typeof SweepFileSchema>;
export type SectionInput = z.output<typeof Section>;
export type QuantizerSettingInput = z.output<typeof QuantizerSetting>;

export interface LoadedSweepFile {
  sweep: SweepFile;
  file: string;
  /** The base run config (not validated yet: jobs are validated once assembled). */
  base: Record<string, unknown>;
  /** File the base came from (the sweep file when inline), for error messages and relative paths. */
  baseFile: string;
  baseDir: string;
  /** Where the base's keys sit in `baseFile`: `base.` when inline in the sweep file, else nothing. */
  baseKeyPrefix: string;
}

export function loadSweepFile(path: string): LoadedSweepFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${path}: cannot read sweep file (${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message})`);
  }
  const data = parseConfigText(text, path);
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${path}: a sweep file must be a mapping with keys base, algorithms, testEnvs (and optionally quantizers, datasets, hparams, trials)`);
  }
  const r = SweepFileSchema.safeParse(data, { reportInput: true });
  if (!r.success) throw new ConfigError(formatIssues(path, [], r.error.issues, SweepFileSchema));
  const sweep = r.data;
  if (typeof sweep.base === 'string') {
    const baseFile = resolve(dirname(path), sweep.base);
    // Loaded as text, not validated: a base may leave out what the sweep's lists fill in.
    const loaded = parseConfigText(readBase(baseFile, path), baseFile);
    if (loaded === null || typeof loaded !== 'object' || Array.isArray(loaded)) throw new ConfigError(`${baseFile}: the base run config must be a mapping`);
    return { sweep, file: path, base: loaded as Record<string, unknown>, baseFile, baseDir: dirname(baseFile), baseKeyPrefix: '' };
  }
  return { sweep, file: path, base: sweep.base, baseFile: path, baseDir: dirname(resolve(path)), baseKeyPrefix: 'base.' };
}

function readBase(baseFile: string, sweepFile: string): string {
  try {
    return readFileSync(baseFile, 'utf8');
  } catch {
    throw new ConfigError(`${sweepFile}: base: cannot read run config ${baseFile}`);
  }
}
