import * as tf from '@tensorflow/tfjs-core';
import type { Network } from '../api/network.js';

/** Runs f, then puts the network's non-trainable parameters (running statistics) back as they were. */
export function keepingBuffers<T>(network: Network, f: () => T): T {
  const saved = network.params
    .all()
    .filter((p) => !p.trainable)
    .map((p) => ({ p, t: tf.clone(p.variable) }));
  try {
    return f();
  } finally {
    for (const { p, t } of saved) {
      p.variable.assign(t);
      t.dispose();
    }
  }
}
