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
