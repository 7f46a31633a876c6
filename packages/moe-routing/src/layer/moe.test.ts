import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededMatrix, setupCpu } from '../../test/helpers.js';
import { MoeRoutingError } from '../errors.js';
import { createNoisyTopKRouter } from '../routers/noisy-top-k.js';
import { createTopKRouter } from '../routers/top-k.js';
import { expertForward } from './experts.js';
import type { MoEConfig } from './moe.js';
import { initMoEParams, moeForward } from './moe.js';
import { disposeParams, MoELayer } from './moe-layer.js';

beforeAll(setupCpu);

const D = 4;
const H = 6;

describe('MoE forward', () => {
  for (const activation of ['swiglu', 'gelu'] as const) {
    it(`one expert is exactly the dense FFN (${activation})`, () => {
      const config: MoEConfig = {
        modelDim: D,
        hiddenDim: H,
        activation,
        router: createTopKRouter({ numExperts: 1, k: 1 }),
      };
      const params = initMoEParams(config, 1);
      const x = tf.tensor2d(seededMatrix(5, D, 2), [5, D]);
      for (const dispatch of ['dropless', 'capacity'] as const) {
        const r = moeForward({ ...config, dispatch, capacityFactor: 1 }, params, x);
        const dense = expertForward(params.experts[0]!, activation, x);
        expectArraysClose(r.output.dataSync(), dense.dataSync(), 0);
        for (const t of [r.output, r.auxLoss, r.zLoss, dense]) t.dispose();
      }
      x.dispose();
      disposeParams(params);
    });
  }

  it('dropless and capacity dispatch agree when nothing is dropped', () => {
    const config: MoEConfig = {
      modelDim: D,
      hiddenDim: H,
      activation: 'swiglu',
      router: createTopKRouter({ numExperts: 4, k: 2 }),
    };
    const params = initMoEParams(config, 3);
    const x = tf.tensor2d(seededMatrix(9, D, 4), [9, D]);
    const a = moeForward(config, params, x);
    const b = moeForward({ ...config, dispatch: 'capacity', capacityFactor: 4 }, params, x);
    expect(b.stats.dropRate).toBe(0);
    expectArraysClose(a.output.dataSync(), b.output.dataSync(), 1e-5);
    expectArraysClose(a.auxLoss.dataSync(), b.auxLoss.dataSync(), 1e-6);
    for (const r of [a, b]) for (const t of [r.output, r.auxLoss, r.zLoss]) t.dispose();
    x.dispose();
    disposeParams(params);
  });

  it('gradient in x matches finite differences (routing fixed over the probe)', () => {
    const config: MoEConfig = {
      modelDim: D,
      hiddenDim: H,
      activation: 'gelu',
      router: createTopKRouter({ numExperts: 3, k: 2 }),
      loadBalanceAlpha: 0.5,
      zLossCoef: 0.1,
    };
    const params = initMoEParams(config, 5);
    // Scale the router so the top-2 sets are far from any tie.
    const scaled = { ...params, routerWeight: tf.mul(params.routerWeight, 40) };
    const xs = seededMatrix(3, D, 6);
    const w = tf.tensor2d(seededMatrix(3, D, 7), [3, D]);
    const f = (x: tf.Tensor): tf.Scalar => {
      const r = moeForward(config, scaled, x as tf.Tensor2D);
      return tf.addN([tf.sum(tf.mul(r.output, w)), r.auxLoss, r.zLoss]) as tf.Scalar;
    };
    const key = (x: Float32Array): string =>
      tf.tidy(() =>
        Array.from(moeForward(config, scaled, tf.tensor2d(x, [3, D])).trace.expertIndex).join(),
      );
    const baseKey = key(xs);
    const analytic = tf.tidy(() =>
      tf
        .grad(f)(tf.tensor2d(xs, [3, D]))
        .dataSync(),
    );
    const numeric = finiteDifferenceGradient(
      (x) => {
        if (key(x) !== baseKey) throw new Error('probe changed the routing');
        return tf.tidy(() => f(tf.tensor2d(x, [3, D])).dataSync()[0]!);
      },
      xs,
      1e-2,
    );
    expectArraysClose(analytic, numeric, 2e-2);
    scaled.routerWeight.dispose();
    w.dispose();
    disposeParams(params);
  });

  it('MoELayer trains through variableGrads and leaks no tensors', () => {
    const layer = new MoELayer(
      {
        modelDim: D,
        hiddenDim: H,
        activation: 'swiglu',
        router: createNoisyTopKRouter({ numExperts: 4, k: 2, seed: 1 }),
        dispatch: 'capacity',
        capacityFactor: 1,
      },
      { seed: 2 },
    );
    expect(layer.trainableVariables.length).toBe(2 + 4 * 3);
    const x = tf.tensor2d(seededMatrix(8, D, 8), [8, D]);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 2; step++) {
      tf.tidy(() => {
        const { grads, value } = tf.variableGrads(() => {
          const r = layer.apply(x);
          return tf.addN([tf.mean(tf.square(r.output)), r.auxLoss, r.zLoss]) as tf.Scalar;
        }, layer.trainableVariables);
        expect(Number.isFinite(value.dataSync()[0])).toBe(true);
        expect(Object.keys(grads).length).toBe(layer.trainableVariables.length);
      });
    }
    expect(tf.memory().numTensors).toBe(before);
    const r = layer.apply(x, { training: false });
    expect(r.output.shape).toEqual([8, D]);
    // recordTrace was off: nothing kept.
    expect(layer.trace.length).toBe(0);
    for (const t of [r.output, r.auxLoss, r.zLoss, x]) t.dispose();
    layer.dispose();
  });

  it('MoELayer records the routing trace when asked', () => {
    const layer = new MoELayer(
      {
        modelDim: D,
        hiddenDim: H,
        activation: 'gelu',
        router: createTopKRouter({ numExperts: 3, k: 2 }),
      },
      { seed: 4, recordTrace: true },
    );
    const x = tf.tensor2d(seededMatrix(5, D, 9), [5, D]);
    for (let i = 0; i < 2; i++) {
      const r = layer.apply(x);
      for (const t of [r.output, r.auxLoss, r.zLoss]) t.dispose();
    }
    expect(layer.trace.length).toBe(10);
    for (const experts of layer.trace) expect(experts.length).toBe(2);
    expect(layer.trace.slice(5)).toEqual(layer.trace.slice(0, 5));
    x.dispose();
    layer.dispose();
  });

  it('errors: wrong x shape, wrong expert count, capacity factor <= 0', () => {
    const config: MoEConfig = {
      modelDim: D,
      hiddenDim: H,
      activation: 'gelu',
      router: createTopKRouter({ numExperts: 2, k: 1 }),
    };
    const params = initMoEParams(config, 1);
    const bad = tf.zeros([3, D + 1]) as tf.Tensor2D;
    expect(() => moeForward(config, params, bad)).toThrow(
      '@plexus/moe-routing/moe: x must have 4 columns, got shape [3, 5]',
    );
    const x = tf.zeros([3, D]) as tf.Tensor2D;
    expect(() => moeForward(config, { ...params, experts: params.experts.slice(0, 1) }, x)).toThrow(
      '@plexus/moe-routing/moe: expected 2 experts, got 1',
    );
    try {
      moeForward({ ...config, dispatch: 'capacity', capacityFactor: 0 }, params, x);
      expect.unreachable();
    } catch (e) {
      expect(MoeRoutingError.isInstance(e)).toBe(true);
      expect((e as Error).message).toBe(
        '@plexus/moe-routing/moe: capacityFactor must be a finite number > 0, got 0',
      );
    }
    for (const t of [bad, x]) t.dispose();
    disposeParams(params);
  });
});
