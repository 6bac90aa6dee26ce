export * from './objective.js';
export * from './sam-step.js';
export * from './adam-algorithm.js';
export * from './minibatches.js';
export * from './hparams.js';
export * from './erm.js';
export * from './algorithms-module.js';
