/**
 * What a plugin written outside the repository needs besides qtdog's own API, so that `@qtdog/core`
 * is its one dependency: the zod that validates every config (a schema from another copy of zod
 * would not be recognised), the TensorFlow.js engine the run trains on (tensors from another copy
 * would live in another engine), and backend selection for the plugin's own tests.
 */
export { z } from 'zod';
export * as tf from '@tensorflow/tfjs-core';
export { selectBackend, type BackendPreference } from '@qtdog/engine';
