import { readFileSync } from 'node:fs';
import { dirname, extname, resolve } from 'node:path';
import { parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { formatIssues } from './format-issues.js';
import { RunConfigSchema, type RunConfig } from './run-config.js';

export interface LoadedConfig {
  config: RunConfig;
  /** The file it came from (as given), for error messages. */
  file: string;
  baseDir: string;
}

/** Parses YAML or JSON text; syntax errors name the file, line and column. */
export function parseConfigText(text: string, file: string): unknown {
  if (extname(file).toLowerCase() === '.json') {
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`${file}: JSON syntax error: ${(e as Error).message}`);
    }
  }
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    const at = pos ? `:${pos.line}:${pos.col}` : '';
    const detail = e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    throw new ConfigError(`${file}${at}: YAML syntax error: ${detail}`);
  }
  return doc.toJS();
}

/** Validates the top-level structure of a run config (plugin options are checked later). */
export function validateRunConfig(data: unknown, file: string): RunConfig {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError(`${file}: a run config must be a mapping with keys dataset, network, algorithm, train; found ${data === null ? 'an empty file' : typeof data}`);
  }
  const r = RunConfigSchema.safeParse(data, { reportInput: true });
  if (!r.success) throw new ConfigError(formatIssues(file, [], r.error.issues, RunConfigSchema));
  return r.data;
}

export function loadConfigFile(path: string): LoadedConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(`${path}: cannot read config file (${code === 'ENOENT' ? 'no such file' : code ?? (e as Error).message})`);
  }
  const data = parseConfigText(text, path);
  return { config: validateRunConfig(data, path), file: path, baseDir: dirname(resolve(path)) };
}
