export * from './main.js';
export * from './builtin-modules.js';
export * from './progress.js';
export * from './accuracy-table.js';
export * from './commands/list.js';
export * from './commands/run.js';
// The sweep file's schema, for tools/docs/gen-configs.mjs (the config reference).
export { SweepFileSchema } from './sweep/sweep-file.js';
