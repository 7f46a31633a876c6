import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededMatrix, separatedLogits, setupCpu } from '../../test/helpers.js';
import { applyCapacity } from '../capacity/capacity.js';
import { createDeepSeekMoERouter } from '../routers/deepseek.js';
import { createExpertChoiceRouter } from '../routers/expert-choice.js';
import { createTopKRouter } from '../routers/top-k.js';
import { disposeRouting } from '../routers/types.js';
import { dispatchDropless, dispatchPadded, sortByExpert } from './dispatch.js';

beforeAll(setupCpu);

const T = 7;
const E = 4;
const D = 3;

describe('dispatch then combine', () => {
  it('is the identity for identity experts (dropless, top-2 renormalised)', () => {
    const x = tf.tensor2d(seededMatrix(T, D, 1), [T, D]);
    const l = tf.tensor2d(separatedLogits(T, E, 2), [T, E]);
    const r = createTopKRouter({ numExperts: E, k: 2 }).route({ logits: l });
    const y = dispatchDropless(x, r, (_e, rows) => rows, D);
    expectArraysClose(y.dataSync(), x.dataSync(), 1e-6);
    for (const t of [x, l, y]) t.dispose();
    disposeRouting(r);
  });
  it('is the identity for identity experts (padded, capacity large enough)', () => {
    const x = tf.tensor2d(seededMatrix(T, D, 1), [T, D]);
    const l = tf.tensor2d(separatedLogits(T, E, 2), [T, E]);
    const r = createTopKRouter({ numExperts: E, k: 2 }).route({ logits: l });
    const c = applyCapacity(r, { capacityFactor: E });
    expect(c.droppedAssignments).toBe(0);
    const y = dispatchPadded(x, c, (xs) => xs, D);
    expectArraysClose(y.dataSync(), x.dataSync(), 1e-6);
    for (const t of [x, l, y]) t.dispose();
    disposeRouting(r);
    disposeRouting(c.routing);
  });
  it('padded and dropless agree on the kept assignments; dropped tokens give zero rows', () => {
    const x = tf.tensor2d(seededMatrix(T, D, 3), [T, D]);
    // Every token prefers expert 0: capacity 2 keeps tokens 0 and 1 only.
    const data = new Float32Array(T * E);
    for (let t = 0; t < T; t++) data.set([3, 0, -1, -2], t * E);
    const l = tf.tensor2d(data, [T, E]);
    const r = createTopKRouter({ numExperts: E, k: 1, renormalize: false }).route({ logits: l });
    const c = applyCapacity(r, { capacityFactor: 1, capacity: 2 });
    const scale = (e: number): number => e + 2;
    const padded = dispatchPadded(
      x,
      c,
      (xs) => tf.mul(xs, tf.reshape(tf.tensor1d([2, 3, 4, 5]), [E, 1, 1])),
      D,
    );
    const dropless = dispatchDropless(x, c.routing, (e, rows) => tf.mul(rows, scale(e)), D);
    expectArraysClose(padded.dataSync(), dropless.dataSync(), 1e-6);
    const out = padded.arraySync() as number[][];
    for (let t = 2; t < T; t++) expect(out[t]).toEqual([0, 0, 0]);
    for (const t of [x, l, padded, dropless]) t.dispose();
    disposeRouting(r);
    disposeRouting(c.routing);
  });
  it('expert-choice and DeepSeekMoE shared experts dispatch without loss of rows', () => {
    const x = tf.tensor2d(seededMatrix(T, D, 4), [T, D]);
    const l = tf.tensor2d(separatedLogits(T, E, 5), [T, E]);
    const ds = createDeepSeekMoERouter({ numRoutedExperts: E, numSharedExperts: 1, k: 2 }).route({
      logits: l,
    });
    // Shared expert (index E) gets every token.
    expect(sortByExpert(ds.expertIndex, ds.numExperts).counts[E]).toBe(T);
    const y = dispatchDropless(x, ds, (e, rows) => (e === E ? rows : tf.zerosLike(rows)), D);
    expectArraysClose(y.dataSync(), x.dataSync(), 1e-6);
    const ec = createExpertChoiceRouter({ numExperts: E, capacityFactor: 2 }).route({ logits: l });
    const z = dispatchDropless(x, ec, (_e, rows) => rows, D);
    expect(z.shape).toEqual([T, D]);
    for (const t of [x, l, y, z]) t.dispose();
    disposeRouting(ds);
    disposeRouting(ec);
  });
  it('sortByExpert is a stable counting sort', () => {
    const { perm, counts } = sortByExpert(Int32Array.from([2, 0, 2, 1, 0]), 3);
    expect(Array.from(perm)).toEqual([1, 4, 3, 0, 2]);
    expect(Array.from(counts)).toEqual([2, 1, 2]);
  });
});
