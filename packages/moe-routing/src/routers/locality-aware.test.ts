import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRouterGradient, separatedLogits, setupCpu } from '../../test/helpers.js';
import { createLocalityAwareRouter, localAssignmentFraction } from './locality-aware.js';
import { disposeRouting } from './types.js';

beforeAll(setupCpu);

const expertHosts = Int32Array.from([0, 0, 1, 1]);

describe('locality-aware (LocMoE) router', () => {
  it('near-ties go to the local expert; gates stay the unbiased probabilities', () => {
    // Token on host 1: experts 0 and 2 almost tie; expert 2 is local.
    const l = tf.tensor2d([[1.05, -3, 1, -3]]);
    const tokenHosts = Int32Array.from([1]);
    const r = createLocalityAwareRouter({ numExperts: 4, k: 1, expertHosts }).route({
      logits: l,
      tokenHosts,
    });
    expect(Array.from(r.expertIndex)).toEqual([2]);
    expectArraysClose(r.gates.dataSync(), [1], 1e-6);
    expect(localAssignmentFraction(r, tokenHosts, expertHosts)).toBe(1);
    const far = createLocalityAwareRouter({
      numExperts: 4,
      k: 1,
      expertHosts,
      localBonus: 0,
    }).route({
      logits: l,
      tokenHosts,
    });
    expect(Array.from(far.expertIndex)).toEqual([0]);
    disposeRouting(r);
    disposeRouting(far);
    l.dispose();
  });
  it('gradient matches finite differences', () => {
    const router = createLocalityAwareRouter({ numExperts: 4, k: 2, expertHosts });
    checkRouterGradient((i) => router.route(i), separatedLogits(5, 4, 9), [5, 4], {
      tokenHosts: Int32Array.from([0, 1, 0, 1, 1]),
    });
  });
  it('errors', () => {
    const l = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() =>
      createLocalityAwareRouter({ numExperts: 4, k: 1, expertHosts }).route({ logits: l }),
    ).toThrow(
      '@plexus/moe-routing/locality-aware: expected tokenHosts with one host per token (2), got none',
    );
    expect(() => createLocalityAwareRouter({ numExperts: 3, k: 1, expertHosts })).toThrow(
      /^@plexus\/moe-routing\/locality-aware: expertHosts must be an Int32Array/,
    );
    l.dispose();
  });
});
