/**
 * Typed errors. The CLI prints `message` alone (no stack trace unless --verbose), so every message
 * must say what went wrong and where.
 */
export type ErrorKind = 'config' | 'plugin' | 'data' | 'engine' | 'run';

export class QtdogError extends Error {
  constructor(
    readonly kind: ErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = `QtdogError(${kind})`;
  }
}

export class ConfigError extends QtdogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('config', message, options);
  }
}

export class PluginError extends QtdogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('plugin', message, options);
  }
}

export class DataError extends QtdogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('data', message, options);
  }
}

export class RunError extends QtdogError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('run', message, options);
  }
}

export function isQtdogError(e: unknown): e is QtdogError {
  return e instanceof QtdogError;
}
