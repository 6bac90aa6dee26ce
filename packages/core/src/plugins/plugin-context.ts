import type { interfaces } from 'inversify';

/** What a plugin factory receives: the run's container (to resolve its dependencies) and basics. */
export interface PluginContext {
  readonly container: interfaces.Container;
  /** The run's seed for this plugin (already derived from the trial seed). */
  readonly seed: number;
  /** Where the config file lives; relative paths in options resolve against it. */
  readonly baseDir: string;
  log(message: string): void;
}
