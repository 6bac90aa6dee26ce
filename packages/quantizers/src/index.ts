export * from './layer-patterns.js';
export * from './lsq-op.js';
export * from './lsq-quantizer.js';
export * from './quantizers-module.js';
