import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { initBackend } from './backend/init-backend.js';
import { PLEXUS_KERNELS } from './kernels/names.js';
import { kernelConformanceCases } from './testing/conformance.js';

// Backends without Plexus kernels (tfjs-node's `tensorflow`) run each op as a
// composite of native tfjs ops. tfjs-node cannot be installed here, so the
// composites are checked on `cpu` with the Plexus kernels unregistered.
describe('composite (native-op) fallbacks pass the conformance suite', () => {
  const saved: tf.KernelConfig[] = [];
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    for (const name of PLEXUS_KERNELS) {
      const config = tf.getKernel(name, 'cpu');
      if (config !== undefined) {
        saved.push(config);
        tf.unregisterKernel(name, 'cpu');
      }
    }
  });
  afterAll(() => {
    for (const config of saved) tf.registerKernel(config);
  });
  for (const c of kernelConformanceCases({ scale: 1 })) {
    it(c.name, () => c.run());
  }
});

describe('UnsortedSegmentSum on wasm (missing in tfjs-backend-wasm)', () => {
  it('matches the cpu kernel, drops out-of-range ids, and makes tf.gather differentiable', async () => {
    await initBackend({ backend: 'cpu' });
    const data = [1, 2, 3, 4, 5, 6, 7, 8];
    const ids = [0, 2, -1, 2];
    const expected = tf.tidy(() =>
      tf.unsortedSegmentSum(tf.tensor2d(data, [4, 2]), tf.tensor1d(ids, 'int32'), 3).arraySync(),
    );
    await initBackend({ backend: 'wasm' });
    const got = tf.tidy(() =>
      tf.unsortedSegmentSum(tf.tensor2d(data, [4, 2]), tf.tensor1d(ids, 'int32'), 3).arraySync(),
    );
    if (JSON.stringify(got) !== JSON.stringify(expected))
      throw new Error(`${JSON.stringify(got)} != ${JSON.stringify(expected)}`);
    const g = tf.tidy(() =>
      tf
        .grad((x: tf.Tensor) => tf.sum(tf.gather(x, tf.tensor1d([1, 1, 0], 'int32'))))(
          tf.ones([3, 2]),
        )
        .arraySync(),
    );
    if (
      JSON.stringify(g) !==
      JSON.stringify([
        [1, 1],
        [2, 2],
        [0, 0],
      ])
    )
      throw new Error(`gather gradient ${JSON.stringify(g)}`);
  });
});
