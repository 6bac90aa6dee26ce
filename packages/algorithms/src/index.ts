export * from './erm.js';
export * from './algorithms-module.js';
