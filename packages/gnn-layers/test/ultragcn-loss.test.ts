import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GnnLayersError, ultraGcnConstraintLoss } from '../src/index.js';

// A tiny bipartite graph: 3 users, 4 items; user 0 is active, item 3 is cold.
const numUsers = 3;
const numItems = 4;
const D = 2;
const interactions = {
  users: Int32Array.from([0, 0, 0, 1, 1, 2]),
  items: Int32Array.from([0, 1, 2, 0, 1, 0]),
};
const batch = {
  users: Int32Array.from([0, 1, 2]),
  positives: Int32Array.from([1, 0, 0]),
  negatives: Int32Array.from([3, 3, 2, 3, 1, 2]), // two per pair
};

/** Plain-JS reference of Mao et al. (2021), Eq. 15, from the paper's β. */
function reference(u: Float32Array, it: Float32Array, negativeWeight: number): number {
  const du = new Array<number>(numUsers).fill(0);
  const di = new Array<number>(numItems).fill(0);
  interactions.users.forEach((x) => {
    du[x]!++;
  });
  interactions.items.forEach((x) => {
    di[x]!++;
  });
  const beta = (a: number, b: number): number =>
    (1 / du[a]!) * Math.sqrt((du[a]! + 1) / (di[b]! + 1));
  const dot = (a: number, b: number): number => {
    let s = 0;
    for (let f = 0; f < D; f++) s += u[a * D + f]! * it[b * D + f]!;
    return s;
  };
  const logSigmoid = (x: number): number => -Math.log1p(Math.exp(-x));
  let loss = 0;
  batch.users.forEach((a, bIdx) => {
    const i = batch.positives[bIdx]!;
    loss -= beta(a, i) * logSigmoid(dot(a, i));
    let neg = 0;
    for (let t = 0; t < 2; t++) {
      const j = batch.negatives[bIdx * 2 + t]!;
      neg -= beta(a, j) * logSigmoid(-dot(a, j));
    }
    loss += (negativeWeight * neg) / 2;
  });
  return loss;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`UltraGCN constraint loss on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    it('matches the plain-JS reference, with finite-difference gradients', () => {
      const rng = new SeededRandom(41);
      const uData = rng.fillNormal(new Float32Array(numUsers * D));
      const iData = rng.fillNormal(new Float32Array(numItems * D));
      const before = tf.memory().numTensors;
      const loss = (u: tf.Tensor, i: tf.Tensor): tf.Scalar =>
        ultraGcnConstraintLoss(u as tf.Tensor2D, i as tf.Tensor2D, interactions, batch, {
          negativeWeight: 3,
        });
      const value = tf.tidy(
        () =>
          loss(tf.tensor2d(uData, [numUsers, D]), tf.tensor2d(iData, [numItems, D])).dataSync()[0]!,
      );
      expect(value).toBeCloseTo(reference(uData, iData, 3), 4);
      const [gu, gi] = tf.tidy(() =>
        tf
          .grads(loss)([tf.tensor2d(uData, [numUsers, D]), tf.tensor2d(iData, [numItems, D])])
          .map((g) => g.dataSync()),
      );
      expectArraysClose(
        gu!,
        finiteDifferenceGradient((v) => reference(v, iData, 3), uData, 1e-3),
        1e-3,
        'user gradient',
      );
      expectArraysClose(
        gi!,
        finiteDifferenceGradient((v) => reference(uData, v, 3), iData, 1e-3),
        1e-3,
        'item gradient',
      );
      expect(tf.memory().numTensors).toBe(before);
    });
  });
}

describe('UltraGCN constraint loss bad input', () => {
  it('names the expected shapes and undefined β', async () => {
    await initBackend({ backend: 'cpu' });
    const u = tf.zeros([numUsers, D]) as tf.Tensor2D;
    const i = tf.zeros([numItems, D + 1]) as tf.Tensor2D;
    const i2 = tf.zeros([numItems, D]) as tf.Tensor2D;
    expect(() => ultraGcnConstraintLoss(u, i, interactions, batch)).toThrow(
      /ultragcn-loss: embeddings must be \[numUsers, d\] and \[numItems, d\], got \[3, 2\] and \[4, 3\]/,
    );
    expect(() =>
      ultraGcnConstraintLoss(u, i2, interactions, { ...batch, negatives: Int32Array.from([1]) }),
    ).toThrow(/negatives \[B \* k\]/);
    const noUser2 = { users: Int32Array.from([0, 1]), items: Int32Array.from([0, 1]) };
    expect(() => ultraGcnConstraintLoss(u, i2, noUser2, batch)).toThrow(GnnLayersError);
    tf.dispose([u, i, i2]);
  });
});
