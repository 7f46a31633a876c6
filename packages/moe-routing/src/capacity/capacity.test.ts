import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupCpu } from '../../test/helpers.js';
import { routingStats } from '../losses/stats.js';
import { createExpertChoiceRouter } from '../routers/expert-choice.js';
import { createSwitchRouter } from '../routers/switch.js';
import { createTopKRouter } from '../routers/top-k.js';
import { disposeRouting } from '../routers/types.js';
import { applyCapacity, expertCapacity } from './capacity.js';

beforeAll(setupCpu);

// Top-1 over 2 experts: tokens 0, 1, 2 want expert 0 (confidence rising), token 3 wants expert 1.
const top1Logits = [
  [0.1, 0],
  [1, 0],
  [2, 0],
  [0, 1],
];

describe('capacity and drop order (hand-worked)', () => {
  it('capacity = ceil(factor · T · k / E)', () => {
    expect(expertCapacity(1, 4, 1, 2)).toBe(2);
    expect(expertCapacity(1.25, 10, 2, 4)).toBe(7);
    expect(expertCapacity(0.01, 4, 1, 2)).toBe(1);
  });
  it('switch order keeps the first tokens: expert 0 keeps tokens 0 and 1, drops token 2', () => {
    const l = tf.tensor2d(top1Logits);
    const r = createSwitchRouter({ numExperts: 2 }).route({ logits: l });
    const c = applyCapacity(r, { capacityFactor: 1 });
    expect(c.capacity).toBe(2);
    expect(Array.from(c.routing.tokenIndex)).toEqual([0, 1, 3]);
    expect(Array.from(c.routing.expertIndex)).toEqual([0, 0, 1]);
    expect(Array.from(c.slot)).toEqual([0, 1, 0]);
    expect(c.droppedAssignments).toBe(1);
    expect(c.droppedTokens).toBe(1);
    const s = routingStats(r, c);
    expect(Array.from(s.requestedLoad)).toEqual([3, 1]);
    expect(Array.from(s.load)).toEqual([2, 1]);
    expect(s.dropRate).toBe(0.25);
    // load [2, 1]: mean 1.5, std 0.5.
    expectArraysClose([s.coefficientOfVariation], [1 / 3], 1e-12);
    disposeRouting(c.routing);
    disposeRouting(r);
    l.dispose();
  });
  it('batch-prioritized order keeps the most confident tokens: expert 0 keeps 2 then 1, drops 0', () => {
    const l = tf.tensor2d(top1Logits);
    const r = createSwitchRouter({ numExperts: 2 }).route({ logits: l });
    const c = applyCapacity(r, { capacityFactor: 1, order: 'batch-prioritized' });
    expect(Array.from(c.routing.tokenIndex)).toEqual([1, 2, 3]);
    expect(Array.from(c.slot)).toEqual([1, 0, 0]);
    const gates = c.routing.gates.dataSync();
    expectArraysClose(
      gates,
      [1 / (1 + Math.exp(-1)), 1 / (1 + Math.exp(-2)), 1 / (1 + Math.exp(-1))],
      1e-6,
    );
    disposeRouting(c.routing);
    disposeRouting(r);
    l.dispose();
  });
  it('top-2: first choices claim slots before any second choice (GShard)', () => {
    // Choices: t0 → (0, 1), t1 → (0, 2), t2 → (0, 1).
    const l = tf.tensor2d([
      [2, 1, 0],
      [2, 0, 1],
      [2, 1, 0],
    ]);
    const r = createTopKRouter({ numExperts: 3, k: 2 }).route({ logits: l });
    const c2 = applyCapacity(r, { capacityFactor: 1, capacity: 2 });
    // e0: t0 s0, t1 s1, t2 dropped; then e1: t0 s0, t2 s1; e2: t1 s0.
    expect(Array.from(c2.routing.tokenIndex)).toEqual([0, 0, 1, 1, 2]);
    expect(Array.from(c2.routing.expertIndex)).toEqual([0, 1, 0, 2, 1]);
    expect(Array.from(c2.slot)).toEqual([0, 0, 1, 0, 1]);
    expect(c2.droppedTokens).toBe(0);
    const c1 = applyCapacity(r, { capacityFactor: 1, capacity: 1 });
    // e0 keeps t0 only; seconds: t0 → e1 s0, t1 → e2 s0, t2 → e1 is full: t2 lost both.
    expect(Array.from(c1.routing.tokenIndex)).toEqual([0, 0, 1]);
    expect(Array.from(c1.routing.expertIndex)).toEqual([0, 1, 2]);
    expect(c1.droppedTokens).toBe(1);
    expect(c1.droppedAssignments).toBe(3);
    for (const x of [c1.routing, c2.routing, r]) disposeRouting(x);
    l.dispose();
  });
  it('errors: capacity factor <= 0 and expert-choice routings', () => {
    const l = tf.tensor2d(top1Logits);
    const r = createSwitchRouter({ numExperts: 2 }).route({ logits: l });
    expect(() => applyCapacity(r, { capacityFactor: 0 })).toThrow(
      '@plexus/moe-routing/capacity: capacityFactor must be a finite number > 0, got 0',
    );
    expect(() => applyCapacity(r, { capacityFactor: -1 })).toThrow(
      /capacityFactor must be a finite number > 0/,
    );
    const ec = createExpertChoiceRouter({ numExperts: 2, capacityFactor: 1 }).route({ logits: l });
    expect(() => applyCapacity(ec, { capacityFactor: 1 })).toThrow(
      /^@plexus\/moe-routing\/capacity: expected a token-choice routing/,
    );
    disposeRouting(r);
    disposeRouting(ec);
    l.dispose();
  });
});
