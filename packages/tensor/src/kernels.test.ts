import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { initBackend } from './backend/init-backend.js';
import { kernelConformanceCases } from './testing/conformance.js';

// The same conformance suite runs on every host backend; webgpu has its own
// file because it needs an adapter (lavapipe in CI).
for (const backend of ['cpu', 'wasm'] as const) {
  describe(`kernel conformance on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });
    afterAll(() => {
      tf.disposeVariables();
    });
    for (const c of kernelConformanceCases({ scale: 2 })) {
      it(c.name, async () => {
        if (tf.getBackend() !== backend) await initBackend({ backend });
        await c.run();
      });
    }
  });
}
