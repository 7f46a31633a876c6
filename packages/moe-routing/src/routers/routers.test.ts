import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRouterGradient, separatedLogits, setupCpu } from '../../test/helpers.js';
import { MoeRoutingError } from '../errors.js';
import { createDeepSeekMoERouter } from './deepseek.js';
import { createExpertChoiceRouter } from './expert-choice.js';
import { createGShardRouter } from './gshard.js';
import { createHashRouter } from './hash.js';
import { createLossFreeBalancer } from './loss-free-balancer.js';
import { createNoisyTopKRouter } from './noisy-top-k.js';
import { createSwitchRouter } from './switch.js';
import { createTopKRouter } from './top-k.js';
import { disposeRouting } from './types.js';

beforeAll(setupCpu);

const T = 5;
const E = 4;
const shape: [number, number] = [T, E];

describe('router gradients match finite differences', () => {
  const logits = separatedLogits(T, E, 1);
  it('top-k softmax-then-topk (renormalised)', () => {
    const r = createTopKRouter({ numExperts: E, k: 2 });
    checkRouterGradient((i) => r.route(i), logits, shape);
  });
  it('top-k softmax-then-topk (not renormalised)', () => {
    const r = createTopKRouter({ numExperts: E, k: 2, renormalize: false });
    checkRouterGradient((i) => r.route(i), logits, shape);
  });
  it('top-k topk-then-softmax', () => {
    const r = createTopKRouter({ numExperts: E, k: 3, order: 'topk-then-softmax' });
    checkRouterGradient((i) => r.route(i), logits, shape);
  });
  it('noisy top-k (fixed noise draw, gradient in logits and noise logits)', () => {
    const noise = tf.tensor2d(separatedLogits(T, E, 2, 0.3), shape);
    const route = (i: Parameters<ReturnType<typeof createNoisyTopKRouter>['route']>[0]) =>
      createNoisyTopKRouter({ numExperts: E, k: 2, seed: 7 }).route({ ...i, noiseLogits: noise });
    checkRouterGradient(route, separatedLogits(T, E, 3, 2.5), shape);
    // Gradient with respect to the noise logits, with the logits fixed.
    const fixed = tf.tensor2d(separatedLogits(T, E, 3, 2.5), shape);
    checkRouterGradient(
      (i) =>
        createNoisyTopKRouter({ numExperts: E, k: 2, seed: 7 }).route({
          logits: fixed,
          noiseLogits: i.logits,
        }),
      separatedLogits(T, E, 2, 0.3),
      shape,
    );
    noise.dispose();
    fixed.dispose();
  });
  it('switch top-1', () => {
    const r = createSwitchRouter({ numExperts: E });
    checkRouterGradient((i) => r.route(i), logits, shape);
  });
  it('gshard top-2 with random dispatch (fixed seed)', () => {
    checkRouterGradient(
      (i) => createGShardRouter({ numExperts: E, seed: 3 }).route(i),
      logits,
      shape,
    );
  });
  it('expert-choice', () => {
    const r = createExpertChoiceRouter({ numExperts: E, capacityFactor: 2 });
    // Each expert ranks tokens by probability: this matrix keeps its 3rd and
    // 4th probabilities per column at least 0.05 apart (checked offline).
    const l = Float32Array.from([
      1.7, 0.5, -0.8, -1.9, -2.8, 0.0, -1.2, -1.3, -0.3, -0.1, -3.4, 1.4, -3.0, 2.8, 0.9, -0.7, 2.0,
      0.0, 1.0, 0.2,
    ]);
    checkRouterGradient((i) => r.route(i), l, shape);
  });
  it('hash (softmax gate; the one-gate form has zero gradient)', () => {
    const tokenIds = Int32Array.from([5, 9, 5, 1, 2]);
    checkRouterGradient(
      (i) => createHashRouter({ numExperts: E, gate: 'softmax' }).route(i),
      logits,
      shape,
      { tokenIds },
    );
  });
  it('deepseek-moe with shared experts and a balancer', () => {
    const balancer = createLossFreeBalancer({ numExperts: E });
    balancer.update([3, 0, 1, 0]);
    const r = createDeepSeekMoERouter({ numRoutedExperts: E, numSharedExperts: 2, k: 2, balancer });
    checkRouterGradient((i) => r.route(i), logits, shape);
  });
});

describe('router semantics', () => {
  it('renormalised softmax-then-topk equals topk-then-softmax', () => {
    const l = tf.tensor2d(separatedLogits(T, E, 5), shape);
    const a = createTopKRouter({ numExperts: E, k: 2 }).route({ logits: l });
    const b = createTopKRouter({ numExperts: E, k: 2, order: 'topk-then-softmax' }).route({
      logits: l,
    });
    expect(Array.from(a.expertIndex)).toEqual(Array.from(b.expertIndex));
    expectArraysClose(a.gates.dataSync(), b.gates.dataSync(), 1e-6);
    for (const r of [a, b]) disposeRouting(r);
    l.dispose();
  });
  it('top-k on a hand example: ties keep the lower expert', () => {
    const l = tf.tensor2d([[0, 1, 1, -1]]);
    const r = createTopKRouter({ numExperts: 4, k: 2 }).route({ logits: l });
    expect(Array.from(r.expertIndex)).toEqual([1, 2]);
    expectArraysClose(r.gates.dataSync(), [0.5, 0.5], 1e-6);
    disposeRouting(r);
    l.dispose();
  });
  it('switch gate is the unnormalised top-1 probability', () => {
    const l = tf.tensor2d([[Math.log(3), 0, 0]]);
    const r = createSwitchRouter({ numExperts: 3 }).route({ logits: l });
    expect(Array.from(r.expertIndex)).toEqual([0]);
    expectArraysClose(r.gates.dataSync(), [0.6], 1e-6);
    disposeRouting(r);
    l.dispose();
  });
  it('gshard keeps all second choices at inference and fewer when g2 is small in training', () => {
    const rows = 200;
    const data = new Float32Array(rows * 4);
    for (let t = 0; t < rows; t++) data.set([3, 0.5, 0, -1], t * 4);
    const l = tf.tensor2d(data, [rows, 4]);
    const router = createGShardRouter({ numExperts: 4, seed: 11 });
    const evalR = router.route({ logits: l, training: false });
    expect(evalR.tokenIndex.length).toBe(2 * rows);
    const trainR = router.route({ logits: l });
    // g2 = e^0.5 / (e^3 + e^0.5) ≈ 0.0759, so about 15% of second choices survive.
    const seconds = trainR.tokenIndex.length - rows;
    expect(seconds).toBeGreaterThan(rows * 0.07);
    expect(seconds).toBeLessThan(rows * 0.25);
    // Same seed, same draws.
    const again = createGShardRouter({ numExperts: 4, seed: 11 }).route({ logits: l });
    expect(Array.from(again.tokenIndex)).toEqual(Array.from(trainR.tokenIndex));
    for (const r of [evalR, trainR, again]) disposeRouting(r);
    l.dispose();
  });
  it('noisy top-k is seeded and noiseless at inference', () => {
    const l = tf.tensor2d(separatedLogits(T, E, 5), shape);
    const n = tf.zeros(shape) as tf.Tensor2D;
    const a = createNoisyTopKRouter({ numExperts: E, k: 2, seed: 1 }).route({
      logits: l,
      noiseLogits: n,
    });
    const b = createNoisyTopKRouter({ numExperts: E, k: 2, seed: 1 }).route({
      logits: l,
      noiseLogits: n,
    });
    expectArraysClose(a.gates.dataSync(), b.gates.dataSync(), 0);
    const c = createNoisyTopKRouter({ numExperts: E, k: 2, seed: 1 }).route({
      logits: l,
      training: false,
    });
    const d = createTopKRouter({ numExperts: E, k: 2, order: 'topk-then-softmax' }).route({
      logits: l,
    });
    expectArraysClose(c.gates.dataSync(), d.gates.dataSync(), 1e-6);
    for (const r of [a, b, c, d]) disposeRouting(r);
    l.dispose();
    n.dispose();
  });
  it('expert-choice gives every expert ceil(T·c/E) tokens and refuses autoregressive decoding', () => {
    const l = tf.tensor2d(separatedLogits(6, 3, 8), [6, 3]);
    const router = createExpertChoiceRouter({ numExperts: 3, capacityFactor: 1 });
    expect(router.causal).toBe(false);
    const r = router.route({ logits: l });
    expect(Array.from(r.expertIndex)).toEqual([0, 0, 1, 1, 2, 2]);
    disposeRouting(r);
    expect(() => router.route({ logits: l, autoregressive: true })).toThrow(
      /^@plexus\/moe-routing\/expert-choice: expert-choice routing is non-causal/,
    );
    l.dispose();
  });
  it('hash routing is a fixed map of token ids', () => {
    const l = tf.zeros([4, 8]) as tf.Tensor2D;
    const r = createHashRouter({ numExperts: 8, seed: 4 }).route({
      logits: l,
      tokenIds: Int32Array.from([7, 3, 7, 3]),
    });
    expect(r.expertIndex[0]).toBe(r.expertIndex[2]);
    expect(r.expertIndex[1]).toBe(r.expertIndex[3]);
    expectArraysClose(r.gates.dataSync(), [1, 1, 1, 1], 0);
    disposeRouting(r);
    l.dispose();
  });
  it('deepseek-moe adds shared experts with gate 1 to every token', () => {
    const l = tf.tensor2d([[2, 0, 1, -1]]);
    const r = createDeepSeekMoERouter({ numRoutedExperts: 4, numSharedExperts: 1, k: 2 }).route({
      logits: l,
    });
    expect(Array.from(r.expertIndex)).toEqual([0, 2, 4]);
    expect(r.numExperts).toBe(5);
    const g = r.gates.dataSync();
    expect(g[2]).toBe(1);
    expect(g[0]! + g[1]!).toBeLessThan(1);
    disposeRouting(r);
    l.dispose();
  });
  it('loss-free balancer moves selection to under-loaded experts without changing gates', () => {
    const balancer = createLossFreeBalancer({ numExperts: 2, updateRate: 0.2 });
    const l = tf.tensor2d([[0.1, 0]]);
    const router = createTopKRouter({ numExperts: 2, k: 1, renormalize: false, balancer });
    const before = router.route({ logits: l });
    expect(before.expertIndex[0]).toBe(0);
    balancer.update([10, 0]);
    expectArraysClose(balancer.bias, [-0.2, 0.2], 1e-7);
    const after = router.route({ logits: l });
    expect(after.expertIndex[0]).toBe(1);
    // The gate is still the unbiased probability of expert 1.
    expectArraysClose(after.gates.dataSync(), [1 / (1 + Math.exp(0.1))], 1e-6);
    for (const r of [before, after]) disposeRouting(r);
    l.dispose();
  });
  it('routing leaks no tensors', () => {
    const l = tf.tensor2d(separatedLogits(T, E, 5), shape);
    const routers = [
      createTopKRouter({ numExperts: E, k: 2 }),
      createSwitchRouter({ numExperts: E }),
      createGShardRouter({ numExperts: E, seed: 1 }),
      createExpertChoiceRouter({ numExperts: E, capacityFactor: 1 }),
      createDeepSeekMoERouter({ numRoutedExperts: E, numSharedExperts: 1, k: 1 }),
    ];
    const before = tf.memory().numTensors;
    for (const router of routers) disposeRouting(router.route({ logits: l }));
    expect(tf.memory().numTensors).toBe(before);
    l.dispose();
  });
});

describe('router errors', () => {
  it('k > numExperts', () => {
    expect(() => createTopKRouter({ numExperts: 2, k: 3 })).toThrow(
      '@plexus/moe-routing/top-k: k must be <= numExperts (2), got k = 3',
    );
  });
  it('wrong logits shape', () => {
    const l = tf.zeros([3, 5]) as tf.Tensor2D;
    try {
      createTopKRouter({ numExperts: 4, k: 1 }).route({ logits: l });
      expect.unreachable();
    } catch (e) {
      expect(MoeRoutingError.isInstance(e)).toBe(true);
      expect((e as Error).message).toBe(
        '@plexus/moe-routing/top-k: logits must have 4 columns, got shape [3, 5]',
      );
    }
    l.dispose();
  });
  it('noisy top-k in training without noise logits', () => {
    const l = tf.zeros([3, 4]) as tf.Tensor2D;
    expect(() =>
      createNoisyTopKRouter({ numExperts: 4, k: 1, seed: 0 }).route({ logits: l }),
    ).toThrow(/^@plexus\/moe-routing\/noisy-top-k: training needs noiseLogits/);
    l.dispose();
  });
  it('hash router without token ids; expert-choice with capacity factor <= 0', () => {
    const l = tf.zeros([3, 4]) as tf.Tensor2D;
    expect(() => createHashRouter({ numExperts: 4 }).route({ logits: l })).toThrow(
      /^@plexus\/moe-routing\/hash: /,
    );
    expect(() => createExpertChoiceRouter({ numExperts: 4, capacityFactor: 0 })).toThrow(
      '@plexus/moe-routing/expert-choice: capacityFactor must be a finite number > 0, got 0',
    );
    l.dispose();
  });
});
