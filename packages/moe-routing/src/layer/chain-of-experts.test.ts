import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededMatrix, setupCpu } from '../../test/helpers.js';
import { createBiLevelRouter } from '../routers/bi-level.js';
import { createTopKRouter } from '../routers/top-k.js';
import type { ChainOfExpertsParams } from './chain-of-experts.js';
import { chainOfExpertsForward, initChainOfExpertsParams } from './chain-of-experts.js';
import { expertTensors } from './experts.js';
import type { MoEConfig } from './moe.js';
import { initMoEParams, moeForward } from './moe.js';
import { disposeParams } from './moe-layer.js';

beforeAll(setupCpu);

const config: MoEConfig = {
  modelDim: 4,
  hiddenDim: 5,
  activation: 'gelu',
  router: createTopKRouter({ numExperts: 3, k: 2 }),
};

function disposeCoe(p: ChainOfExpertsParams): void {
  for (const t of [...p.routerWeights, ...p.experts.flatMap(expertTensors)]) t.dispose();
}

describe('Chain-of-Experts', () => {
  it('two iterations are MoE₁ then MoE₂ plus a residual, with shared experts', () => {
    const p = initChainOfExpertsParams(config, 2, 1);
    const x = tf.tensor2d(seededMatrix(6, 4, 2), [6, 4]);
    const before = tf.memory().numTensors;
    const r = chainOfExpertsForward(config, p, x);
    expect(r.stats.length).toBe(2);
    const expected = tf.tidy(() => {
      const a = moeForward(
        config,
        { routerWeight: p.routerWeights[0]!, experts: p.experts },
        x,
      ).output;
      return tf.add(
        moeForward(config, { routerWeight: p.routerWeights[1]!, experts: p.experts }, a).output,
        a,
      );
    });
    expectArraysClose(r.output.dataSync(), expected.dataSync(), 1e-6);
    for (const t of [r.output, r.auxLoss, r.zLoss, expected]) t.dispose();
    expect(tf.memory().numTensors).toBe(before);
    // Gradients reach both routers and the shared experts.
    const grads = tf.tidy(() => {
      const vars = [...p.routerWeights, p.experts[0]!.w1];
      const g = tf.grads((r0, r1, w1) =>
        tf.sum(
          chainOfExpertsForward(
            config,
            {
              routerWeights: [r0!, r1!],
              experts: [{ ...p.experts[0]!, w1: w1! }, ...p.experts.slice(1)],
            },
            x,
          ).output,
        ),
      )(vars);
      return g.map((t) => tf.sum(tf.abs(t)).dataSync()[0]!);
    });
    for (const g of grads) expect(g).toBeGreaterThan(0);
    x.dispose();
    disposeCoe(p);
  });
  it('one iteration is the MoE block; a bi-level router works inside the block', () => {
    const p = initChainOfExpertsParams(config, 1, 3);
    const x = tf.tensor2d(seededMatrix(5, 4, 4), [5, 4]);
    const a = chainOfExpertsForward(config, p, x);
    const b = moeForward(config, { routerWeight: p.routerWeights[0]!, experts: p.experts }, x);
    expectArraysClose(a.output.dataSync(), b.output.dataSync(), 0);
    const smile: MoEConfig = {
      ...config,
      router: createBiLevelRouter({ numHosts: 2, expertsPerHost: 2 }),
    };
    const sp = initMoEParams(smile, 5);
    expect(sp.routerWeight.shape).toEqual([4, 6]);
    const c = moeForward(smile, sp, x);
    expect(c.output.shape).toEqual([5, 4]);
    for (const t of [
      a.output,
      a.auxLoss,
      a.zLoss,
      b.output,
      b.auxLoss,
      b.zLoss,
      c.output,
      c.auxLoss,
      c.zLoss,
      x,
    ]) {
      t.dispose();
    }
    disposeParams(sp);
    disposeCoe(p);
  });
  it('errors', () => {
    expect(() => initChainOfExpertsParams(config, 0, 1)).toThrow(
      '@plexus/moe-routing/chain-of-experts: iterations must be an integer >= 1, got 0',
    );
    const x = tf.zeros([2, 4]) as tf.Tensor2D;
    expect(() => chainOfExpertsForward(config, { routerWeights: [], experts: [] }, x)).toThrow(
      /^@plexus\/moe-routing\/chain-of-experts: expected at least one router weight/,
    );
    x.dispose();
  });
});
