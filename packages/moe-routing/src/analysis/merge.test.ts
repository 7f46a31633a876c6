import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededMatrix, separatedLogits, setupCpu } from '../../test/helpers.js';
import { dispatchDropless } from '../layer/dispatch.js';
import type { ExpertParams } from '../layer/experts.js';
import { expertForward, expertTensors } from '../layer/experts.js';
import { createTopKRouter } from '../routers/top-k.js';
import { disposeRouting } from '../routers/types.js';
import { mergeExpertsByClustering, remapRouting } from './merge.js';

beforeAll(setupCpu);

const D = 3;
const H = 4;
function expert(seed: number): ExpertParams {
  return {
    w1: tf.tensor2d(seededMatrix(D, H, seed), [D, H]),
    w2: tf.tensor2d(seededMatrix(H, D, seed + 100), [H, D]),
    b1: tf.zeros([H]),
    b2: tf.zeros([D]),
  };
}

describe('HC-SMoE expert merging', () => {
  it('clusters duplicate experts together; merged experts reproduce the original layer', () => {
    // Experts 0 and 2 are copies, as are 1 and 3.
    const a = expert(1);
    const b = expert(2);
    const experts = [a, b, a, b];
    const calibration = tf.tensor2d(seededMatrix(16, D, 3), [16, D]);
    const m = mergeExpertsByClustering({
      experts,
      activation: 'gelu',
      calibration,
      numClusters: 2,
      usage: [1, 3, 2, 1],
    });
    expect(m.clusters).toEqual([
      [0, 2],
      [1, 3],
    ]);
    expect(Array.from(m.expertMap)).toEqual([0, 1, 0, 1]);
    const x = tf.tensor2d(seededMatrix(5, D, 4), [5, D]);
    const l = tf.tensor2d(separatedLogits(5, 4, 5), [5, 4]);
    const r = createTopKRouter({ numExperts: 4, k: 2 }).route({ logits: l });
    const remapped = remapRouting(r, m.expertMap, 2);
    const before = dispatchDropless(x, r, (e, rows) => expertForward(experts[e]!, 'gelu', rows), D);
    const after = dispatchDropless(
      x,
      remapped,
      (e, rows) => expertForward(m.merged[e]!, 'gelu', rows),
      D,
    );
    expectArraysClose(after.dataSync(), before.dataSync(), 1e-5);
    for (const t of [calibration, x, l, before, after, ...expertTensors(a), ...expertTensors(b)])
      t.dispose();
    for (const p of m.merged) for (const t of expertTensors(p)) t.dispose();
    disposeRouting(r);
    disposeRouting(remapped);
  });
  it('usage-weighted average of weights', () => {
    const a = expert(1);
    const b = expert(2);
    const calibration = tf.tensor2d(seededMatrix(4, D, 3), [4, D]);
    const m = mergeExpertsByClustering({
      experts: [a, b],
      activation: 'gelu',
      calibration,
      numClusters: 1,
      usage: [3, 1],
    });
    const expected = tf.tidy(() => tf.add(tf.mul(a.w1, 0.75), tf.mul(b.w1, 0.25)));
    expectArraysClose(m.merged[0]!.w1.dataSync(), expected.dataSync(), 1e-6);
    expect(() =>
      mergeExpertsByClustering({
        experts: [a, b],
        activation: 'gelu',
        calibration,
        numClusters: 3,
      }),
    ).toThrow('@plexus/moe-routing/merge: numClusters must be an integer in [1, 2], got 3');
    for (const t of [
      calibration,
      expected,
      ...expertTensors(a),
      ...expertTensors(b),
      ...expertTensors(m.merged[0]!),
    ]) {
      t.dispose();
    }
  });
});
