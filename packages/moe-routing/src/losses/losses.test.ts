import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededMatrix, setupCpu } from '../../test/helpers.js';
import { createSwitchRouter } from '../routers/switch.js';
import { createTopKRouter } from '../routers/top-k.js';
import { disposeRouting } from '../routers/types.js';
import { importanceLoss, loadBalancingLoss, routerZLoss } from './losses.js';
import { routingStats } from './stats.js';

beforeAll(setupCpu);

describe('losses', () => {
  it('load-balancing loss equals alpha at uniform routing (any f)', () => {
    for (const [n, k] of [
      [4, 1],
      [8, 2],
    ] as const) {
      const l = tf.zeros([6, n]) as tf.Tensor2D;
      const r = createTopKRouter({ numExperts: n, k }).route({ logits: l });
      const loss = loadBalancingLoss(r, 0.3);
      expectArraysClose(loss.dataSync(), [0.3], 1e-6);
      loss.dispose();
      disposeRouting(r);
      l.dispose();
    }
  });
  it('load-balancing loss by hand: f = [3/4, 1/4], P = mean probs', () => {
    const l = tf.tensor2d([
      [1, 0],
      [2, 0],
      [3, 0],
      [0, 1],
    ]);
    const r = createSwitchRouter({ numExperts: 2 }).route({ logits: l });
    const s = (z: number): number => 1 / (1 + Math.exp(-z));
    const p0 = (s(1) + s(2) + s(3) + s(-1)) / 4;
    const expected = 0.1 * 2 * (0.75 * p0 + 0.25 * (1 - p0));
    const loss = loadBalancingLoss(r, 0.1);
    expectArraysClose(loss.dataSync(), [expected], 1e-6);
    // The gradient reaches the logits through P.
    const g = tf.grad((x) =>
      loadBalancingLoss(
        createSwitchRouter({ numExperts: 2 }).route({ logits: x as tf.Tensor2D }),
        0.1,
      ),
    )(l);
    expect(Math.abs(g.dataSync()[0]!)).toBeGreaterThan(0);
    for (const t of [loss, g, l]) t.dispose();
    disposeRouting(r);
  });
  it('importance loss: CV² of summed gates per expert', () => {
    // Two tokens, both to expert 0 with gate 1/2 (k = 1, not renormalised, 2 experts at a tie → expert 0).
    const l = tf.zeros([2, 2]) as tf.Tensor2D;
    const r = createSwitchRouter({ numExperts: 2 }).route({ logits: l });
    // Importance [1, 0]: mean 1/2, variance 1/4 → CV² = 1.
    const loss = importanceLoss(r, 0.2);
    expectArraysClose(loss.dataSync(), [0.2], 1e-6);
    loss.dispose();
    disposeRouting(r);
    const balanced = tf.tensor2d([
      [1, 0],
      [0, 1],
    ]);
    const rb = createSwitchRouter({ numExperts: 2 }).route({ logits: balanced });
    const zero = importanceLoss(rb, 0.2);
    expectArraysClose(zero.dataSync(), [0], 1e-6);
    for (const t of [zero, balanced, l]) t.dispose();
    disposeRouting(rb);
  });
  it('router z-loss = coef · mean(logsumexp²)', () => {
    const l = tf.tensor2d([
      [0, 0],
      [1, 2],
    ]);
    const lse2 = Math.log(Math.exp(1) + Math.exp(2));
    const z = routerZLoss(l, 0.5);
    expectArraysClose(z.dataSync(), [0.5 * ((Math.log(2) ** 2 + lse2 ** 2) / 2)], 1e-6);
    z.dispose();
    l.dispose();
  });
  it('routing entropy is log E at uniform routing and lower when peaked', () => {
    const u = tf.zeros([3, 4]) as tf.Tensor2D;
    const r = createTopKRouter({ numExperts: 4, k: 1 }).route({ logits: u });
    expectArraysClose([routingStats(r).entropy], [Math.log(4)], 1e-6);
    disposeRouting(r);
    const p = tf.tensor2d(seededMatrix(3, 4, 2, 5), [3, 4]);
    const r2 = createTopKRouter({ numExperts: 4, k: 1 }).route({ logits: p });
    expect(routingStats(r2).entropy).toBeLessThan(Math.log(4));
    disposeRouting(r2);
    u.dispose();
    p.dispose();
  });
  it('errors: negative alpha', () => {
    const l = tf.zeros([2, 2]) as tf.Tensor2D;
    const r = createSwitchRouter({ numExperts: 2 }).route({ logits: l });
    expect(() => loadBalancingLoss(r, -1)).toThrow(
      '@plexus/moe-routing/losses: alpha must be a finite number >= 0, got -1',
    );
    disposeRouting(r);
    l.dispose();
  });
});
