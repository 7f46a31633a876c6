import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupCpu } from '../../test/helpers.js';
import { applyCapacity } from '../capacity/capacity.js';
import { createTopKRouter } from '../routers/top-k.js';
import { disposeRouting } from '../routers/types.js';
import { dispatchDropless, dispatchPadded } from './dispatch.js';

beforeAll(setupCpu);

describe('dispatch invariants (property)', () => {
  it('identity experts: dropless returns x; padded equals dropless on the kept assignments', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0.2, max: 2, noNaN: true }),
        fc.integer({ min: 0, max: 1000 }),
        (T, E, kRaw, factor, seed) => {
          const k = Math.min(kRaw, E);
          const before = tf.memory().numTensors;
          tf.tidy(() => {
            const x = tf.tensor2d(
              Float32Array.from({ length: T * 3 }, (_, i) => Math.cos(seed * 0.37 + i)),
              [T, 3],
            );
            const l = tf.tensor2d(
              Float32Array.from({ length: T * E }, (_, i) => Math.sin(seed + i * 1.3) * 2),
              [T, E],
            );
            const r = createTopKRouter({ numExperts: E, k }).route({ logits: l });
            expectArraysClose(
              dispatchDropless(x, r, (_e, rows) => rows, 3).dataSync(),
              x.dataSync(),
              1e-5,
            );
            const c = applyCapacity(r, { capacityFactor: factor });
            const scaled = (e: number): number => 1 + e;
            const padded = dispatchPadded(
              x,
              c,
              (xs) => tf.mul(xs, tf.reshape(tf.range(1, E + 1), [E, 1, 1])),
              3,
            );
            const dropless = dispatchDropless(
              x,
              c.routing,
              (e, rows) => tf.mul(rows, scaled(e)),
              3,
            );
            expectArraysClose(padded.dataSync(), dropless.dataSync(), 1e-5);
            disposeRouting(c.routing);
            disposeRouting(r);
          });
          expect(tf.memory().numTensors).toBe(before);
        },
      ),
      { numRuns: 50, seed: 3 },
    );
  });
});
