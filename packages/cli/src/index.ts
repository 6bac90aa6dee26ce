export * from './main.js';
export * from './builtin-modules.js';
export * from './progress.js';
export * from './accuracy-table.js';
export * from './commands/list.js';
export * from './commands/run.js';
