import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './backend/init-backend.js';
import { assertNoTensorLeak, memoryReport } from './memory.js';

describe('memory', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('reports tensors and the wasm heap', () => {
    const t = tf.ones([1000]);
    const r = memoryReport();
    expect(r.backend).toBe('wasm');
    expect(r.numTensors).toBeGreaterThanOrEqual(1);
    expect(r.numBytes).toBeGreaterThanOrEqual(4000);
    expect(r.wasmHeapBytes).toBeGreaterThan(0);
    t.dispose();
  });

  it('assertNoTensorLeak passes clean code and names a leak', async () => {
    await expect(
      assertNoTensorLeak('clean', () => tf.tidy(() => void tf.add(tf.ones([2]), 1))),
    ).resolves.toBeUndefined();
    let leaked: tf.Tensor | undefined;
    await expect(
      assertNoTensorLeak('leaky step', () => {
        leaked = tf.ones([2]);
      }),
    ).rejects.toThrow(/@plexus\/tensor\/memory: leaky step leaked 1 tensor\(s\)/);
    leaked?.dispose();
  });
});
