export * from './layer-patterns.js';
export * from './lsq-op.js';
export * from './lsq-quantizer.js';
export * from './uniform-op.js';
export * from './minmax-quantizer.js';
export * from './weight-noise.js';
export * from './integer-weights.js';
export * from './quantizers-module.js';
