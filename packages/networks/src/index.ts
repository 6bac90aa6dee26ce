export * from './init.js';
export * from './mnist-cnn.js';
export * from './mnist-cnn-plugin.js';
export * from './networks-module.js';
