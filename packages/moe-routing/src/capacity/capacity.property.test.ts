import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupCpu } from '../../test/helpers.js';
import { createTopKRouter } from '../routers/top-k.js';
import { disposeRouting } from '../routers/types.js';
import { applyCapacity } from './capacity.js';

beforeAll(setupCpu);

describe('capacity invariants (property)', () => {
  it('no expert exceeds capacity, slots are 0..load-1, kept + dropped = requested', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 12 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.double({ min: 0.1, max: 3, noNaN: true }),
        fc.constantFrom('gshard' as const, 'batch-prioritized' as const),
        fc.integer({ min: 0, max: 1000 }),
        (T, E, kRaw, factor, order, seed) => {
          const k = Math.min(kRaw, E);
          const before = tf.memory().numTensors;
          const data = Float32Array.from({ length: T * E }, (_, i) => Math.sin(seed + i * 1.7) * 3);
          const l = tf.tensor2d(data, [T, E]);
          const r = createTopKRouter({ numExperts: E, k }).route({ logits: l });
          const c = applyCapacity(r, { capacityFactor: factor, order });
          const perExpert = new Map<number, number[]>();
          c.routing.expertIndex.forEach((e, i) => {
            perExpert.set(e, [...(perExpert.get(e) ?? []), c.slot[i]!]);
          });
          for (const slots of perExpert.values()) {
            expect(slots.length).toBeLessThanOrEqual(c.capacity);
            expect([...slots].sort((a, b) => a - b)).toEqual(slots.map((_, i) => i));
          }
          expect(c.routing.tokenIndex.length + c.droppedAssignments).toBe(T * k);
          expect(c.routing.gates.shape[0]).toBe(c.routing.tokenIndex.length);
          disposeRouting(c.routing);
          disposeRouting(r);
          l.dispose();
          expect(tf.memory().numTensors).toBe(before);
        },
      ),
      { numRuns: 60, seed: 7 },
    );
  });
});
