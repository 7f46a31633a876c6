import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  checkRouterGradient,
  seededMatrix,
  separatedLogits,
  setupCpu,
} from '../../test/helpers.js';
import { createLocMoERouter } from './locmoe.js';
import { grapGateLogits, grapGateWeight } from './locmoe-gate.js';
import { disposeRouting } from './types.js';

beforeAll(setupCpu);

/** Plain-JS GrAP: mean of each of the n feature groups. */
function grapReference(x: Float32Array, T: number, D: number, n: number): Float64Array {
  const g = D / n;
  const out = new Float64Array(T * n);
  for (let t = 0; t < T; t++)
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let j = i * g; j < (i + 1) * g; j++) s += x[t * D + j]!;
      out[t * n + i] = s / g;
    }
  return out;
}

describe('LocMoE GrAP gate', () => {
  it('logits are the group means, equal to x · W with the fixed orthogonal weight', () => {
    const before = tf.memory().numTensors;
    const xs = seededMatrix(5, 12, 3);
    const x = tf.tensor2d(xs, [5, 12]);
    const logits = grapGateLogits(x, 4);
    expectArraysClose(logits.dataSync(), grapReference(xs, 5, 12, 4), 1e-6);
    const w = grapGateWeight(12, 4);
    const dense = tf.matMul(x, w);
    expectArraysClose(dense.dataSync(), logits.dataSync(), 1e-6);
    // Columns: disjoint support, equal norm -> W^T W = (n/d) I.
    const gram = tf.matMul(w, w, true, false);
    const eye = Array.from({ length: 16 }, (_, i) => (i % 5 === 0 ? 4 / 12 : 0));
    expectArraysClose(gram.dataSync(), eye, 1e-7);
    tf.dispose([x, logits, w, dense, gram]);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('gradient in x matches finite differences', () => {
    const xs = seededMatrix(3, 8, 5);
    const weights = seededMatrix(3, 2, 6);
    const f = (x: tf.Tensor) =>
      tf.sum(tf.mul(tf.square(grapGateLogits(x as tf.Tensor2D, 2)), tf.tensor2d(weights, [3, 2])));
    const analytic = tf.tidy(() =>
      tf
        .grad(f)(tf.tensor2d(xs, [3, 8]))
        .dataSync(),
    );
    const numeric = finiteDifferenceGradient(
      (v) => tf.tidy(() => f(tf.tensor2d(v, [3, 8])).dataSync()[0]!),
      xs,
      1e-2,
    );
    expectArraysClose(analytic, numeric, 2e-2);
  });
  it('router: top-1 by softmax, gate = unrenormalised probability (Eqs. 2-3)', () => {
    const before = tf.memory().numTensors;
    const l = tf.tensor2d([
      [0.1, 2, -1, 0.3],
      [1, 0, 0, 3],
    ]);
    const r = createLocMoERouter({ numExperts: 4 }).route({ logits: l });
    expect(Array.from(r.expertIndex)).toEqual([1, 3]);
    const p = (row: number[], i: number) =>
      Math.exp(row[i]!) / row.reduce((s, v) => s + Math.exp(v), 0);
    expectArraysClose(r.gates.dataSync(), [p([0.1, 2, -1, 0.3], 1), p([1, 0, 0, 3], 3)], 1e-6);
    disposeRouting(r);
    l.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
  it('router gradient matches finite differences', () => {
    const router = createLocMoERouter({ numExperts: 4, k: 2 });
    checkRouterGradient((i) => router.route(i), separatedLogits(5, 4, 11), [5, 4]);
  });
  it('errors', () => {
    const x = tf.zeros([2, 10]) as tf.Tensor2D;
    expect(() => grapGateLogits(x, 4)).toThrow(
      '@plexus/moe-routing/locmoe-gate: modelDim (10) must be a multiple of numExperts (4): GrAP splits the features into one equal group per expert',
    );
    expect(() => grapGateWeight(8, 0)).toThrow(
      '@plexus/moe-routing/locmoe-gate: numExperts must be an integer >= 1, got 0',
    );
    expect(() => createLocMoERouter({ numExperts: 2, k: 3 })).toThrow(
      /^@plexus\/moe-routing\/locmoe: k must be <= numExperts/,
    );
    x.dispose();
  });
});
