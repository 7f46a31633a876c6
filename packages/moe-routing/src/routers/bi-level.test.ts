import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkRouterGradient, separatedLogits, setupCpu } from '../../test/helpers.js';
import { createBiLevelRouter } from './bi-level.js';
import { disposeRouting } from './types.js';

beforeAll(setupCpu);

describe('bi-level (SMILE) router', () => {
  it('picks the host first, then the expert inside it; gate = p(host) · p(expert | host)', () => {
    // 2 hosts x 2 experts. Host logits [0, ln 3] → host 1 (p = 3/4); its experts [ln 4, 0] → local 0 (p = 4/5).
    // Expert 1 (host 0) has the largest raw logit but host 0 loses the first level.
    const l = tf.tensor2d([[0, Math.log(3), 0, 9, Math.log(4), 0]]);
    const r = createBiLevelRouter({ numHosts: 2, expertsPerHost: 2 }).route({ logits: l });
    expect(Array.from(r.expertIndex)).toEqual([2]);
    expectArraysClose(r.gates.dataSync(), [0.75 * 0.8], 1e-6);
    const p = r.probs.dataSync();
    expectArraysClose([Array.from(p).reduce((a, b) => a + b, 0)], [1], 1e-6);
    disposeRouting(r);
    l.dispose();
  });
  it('gradient matches finite differences', () => {
    const router = createBiLevelRouter({ numHosts: 2, expertsPerHost: 3 });
    checkRouterGradient((i) => router.route(i), separatedLogits(4, 8, 3), [4, 8]);
  });
  it('refuses logits of the wrong width', () => {
    const l = tf.zeros([2, 6]) as tf.Tensor2D;
    expect(() =>
      createBiLevelRouter({ numHosts: 2, expertsPerHost: 3 }).route({ logits: l }),
    ).toThrow('@plexus/moe-routing/bi-level: logits must have 8 columns, got shape [2, 6]');
    l.dispose();
  });
});
