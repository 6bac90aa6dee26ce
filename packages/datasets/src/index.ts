export * from './package-dir.js';
export * from './mnist-digits.js';
export * from './rotate-image.js';
export * from './in-memory-environment.js';
export * from './multi-domain-mnist.js';
export * from './rotated-mnist.js';
export * from './colored-mnist.js';
export * from './datasets-module.js';
