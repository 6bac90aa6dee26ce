import type { z } from 'zod';
import type { HParamDistribution } from './hparams.js';
import type { PluginContext } from './plugin-context.js';

export const PLUGIN_KINDS = [
  'algorithm',
  'quantizer',
  'dataset',
  'network',
  'evaluator',
  'selection',
  'launcher',
  'hook',
] as const;
export type PluginKind = (typeof PLUGIN_KINDS)[number];

/**
 * A plugin is declared once: kind, name, an options schema (zod, with defaults), optional
 * random-search distributions for the options that are hyperparameters, and a factory.
 */
export interface PluginDefinition<TOptions = any, TInstance = unknown> {
  readonly kind: PluginKind;
  readonly name: string;
  /** One line, shown by `qtdog list`. Name the paper (arXiv id) where there is one. */
  readonly description: string;
  /** Options schema. Must be a zod object; every key should have a default or be required. */
  readonly options: z.ZodType<TOptions>;
  /** Random-search distributions, keyed by option name. */
  readonly hparams?: Record<string, HParamDistribution>;
  /** Package (or file) that contributed the plugin; set by the module helper, shown in errors. */
  readonly source?: string;
  /** Replace an existing plugin of the same kind and name instead of failing. */
  readonly override?: boolean;
  create(options: TOptions, ctx: PluginContext): TInstance | Promise<TInstance>;
}

/** Identity helper that keeps the option type inferred from the schema. */
export function definePlugin<S extends z.ZodType, TInstance>(def: {
  kind: PluginKind;
  name: string;
  description: string;
  options: S;
  hparams?: Record<string, HParamDistribution>;
  source?: string;
  override?: boolean;
  create(options: z.output<S>, ctx: PluginContext): TInstance | Promise<TInstance>;
}): PluginDefinition<z.output<S>, TInstance> {
  return def as PluginDefinition<z.output<S>, TInstance>;
}
