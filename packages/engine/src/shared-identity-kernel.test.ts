import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels } from './wasm-conv-kernels';

describe('wasm Identity that shares its input buffer', () => {
  beforeAll(async () => {
    registerWasmTrainingKernels();
    await tf.setBackend('wasm');
    await tf.ready();
  });

  it('is the registered wasm Identity kernel', () => {
    expect(tf.getKernel('Identity', 'wasm')!.kernelFunc.name).toBe('identityWasm');
  });

  it('a clone allocates no new data, outlives its source, and frees the buffer with the last reference', () => {
    const before = tf.memory();
    const dataIds = (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const x = tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]);
    const y = tf.clone(x);
    // One buffer, two tensors (the engine's numBytes counts per tensor, so it is not the check).
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers + 1);
    expect(tf.memory().numTensors).toBe(before.numTensors + 2);
    expect((tf.backend() as unknown as { numDataIds(): number }).numDataIds()).toBe(dataIds + 1);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(y.shape).toEqual([2, 3]);
    y.dispose();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
  });

  it('a variable keeps its value when the tensor it was cloned from is disposed, and assign does not touch the clone', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const v = tf.variable(tf.clone(x));
    const c = tf.clone(v);
    x.dispose();
    v.assign(tf.tensor1d([7, 8, 9]));
    expect(Array.from(v.dataSync())).toEqual([7, 8, 9]);
    expect(Array.from(c.dataSync())).toEqual([1, 2, 3]);
    tf.dispose([v, c]);
  });

  it('strings still work (backend kernel)', () => {
    const s = tf.tensor1d(['a', 'b'], 'string');
    const c = tf.clone(s);
    expect(c.arraySync()).toEqual(['a', 'b']);
    tf.dispose([s, c]);
  });
});
