import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadWeights, saveWeights } from '../index.js';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('weights file', () => {
  it('round-trips tensors and detects truncation and corruption', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'qtdog-w-')), 'ckpt');
    const a = tf.tensor2d([[1, 2, 3], [4, 5, 6]]);
    const b = tf.tensor1d([7, 8], 'int32');
    saveWeights(dir, { a, b }, { step: 3 });
    // Saving again replaces the folder atomically.
    const m = saveWeights(dir, { a, b }, { step: 4 });
    const { tensors, manifest } = loadWeights(dir);
    expect(manifest.meta.step).toBe(4);
    expect(manifest.sha256).toBe(m.sha256);
    expect(Array.from(tensors.a!.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(tensors.a!.shape).toEqual([2, 3]);
    expect(tensors.b!.dtype).toBe('int32');
    const bin = readFileSync(join(dir, 'weights.bin'));
    writeFileSync(join(dir, 'weights.bin'), bin.subarray(0, 10));
    expect(() => loadWeights(dir)).toThrow(/weights.bin: size 10 bytes, manifest says 32 \(truncated or corrupt\)/);
    bin[0] = bin[0]! ^ 0xff;
    writeFileSync(join(dir, 'weights.bin'), bin);
    expect(() => loadWeights(dir)).toThrow(/SHA-256 mismatch/);
  });
});
