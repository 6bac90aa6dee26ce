// The convolutions the ceiling times: a random input and filter for each distinct conv shape of a
// network, padded as the networks pass it to tf.conv2d. Used by convCeiling (ours.mjs) and by the
// loader threads of the "both threads busy" ceiling (conv-load.mjs), so both run the same work.
import * as tf from '@tensorflow/tfjs-core';
import { distinctShapes } from './shapes.mjs';

/** One entry per distinct shape: { s, x, w, pad }; free them with disposeConvInputs. */
export function convInputs(convs, batch) {
  return distinctShapes(convs).map((s) => ({
    s,
    x: tf.randomUniform([batch, s.h, s.w, s.cin]),
    w: tf.randomUniform([s.k, s.k, s.cin, s.cout], -0.1, 0.1),
    pad: s.pad === 0 ? 'valid' : [[0, 0], [s.pad, s.pad], [s.pad, s.pad], [0, 0]],
  }));
}

/** tf.conv2d of one entry. The wasm backend runs it synchronously inside the call. */
export function runConv({ s, x, w, pad }) {
  return tf.conv2d(x, w, s.stride, pad);
}

export function disposeConvInputs(inputs) {
  for (const i of inputs) tf.dispose([i.x, i.w]);
}
