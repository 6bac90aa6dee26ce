// Registering TensorFlow.js's gradient functions.
//
// tfjs-core registers no gradients by itself: the union package @tensorflow/tfjs does
// (and @tensorflow/tfjs-node loads it). tfjs-core's own registration file is ESM with
// extensionless imports, which bundlers and vitest load but plain Node does not. So:
// gradients already there, else @tensorflow/tfjs when installed, else that file.
import * as tf from '@tensorflow/tfjs-core';

// Variables, not literals: bundlers must not try to resolve optional modules.
const TFJS_UNION = '@tensorflow/tfjs';
const CORE_GRADIENTS = '@tensorflow/tfjs-core/dist/register_all_gradients';

function registered(): boolean {
  return tf.getGradient('Conv2D') != null && tf.getGradient('Relu') != null;
}

/** Makes sure tfjs's gradients are registered; returns whether they are. Idempotent. */
export async function registerGradients(): Promise<boolean> {
  for (const specifier of [TFJS_UNION, CORE_GRADIENTS]) {
    if (registered()) return true;
    try {
      await import(/* @vite-ignore */ specifier);
    } catch {
      // not installed, or not loadable by plain Node: try the next one
    }
  }
  return registered();
}
