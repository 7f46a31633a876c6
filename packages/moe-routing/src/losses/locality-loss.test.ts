import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededMatrix, setupCpu } from '../../test/helpers.js';
import { createLocMoERouter } from '../routers/locmoe.js';
import { disposeRouting } from '../routers/types.js';
import { localityLoss } from './locality-loss.js';

beforeAll(setupCpu);

const expertHosts = Int32Array.from([0, 0, 1, 1, 2, 2]);

/** Plain-JS μ·Σ_h (T_h/T)·KL(D_c^h ‖ D_l^h) from logits. */
function reference(
  logits: Float32Array,
  T: number,
  E: number,
  tokenHosts: Int32Array,
  mu: number,
  eps: number,
): number {
  const probs = new Float64Array(T * E);
  for (let t = 0; t < T; t++) {
    let m = -Infinity;
    for (let e = 0; e < E; e++) m = Math.max(m, logits[t * E + e]!);
    let s = 0;
    for (let e = 0; e < E; e++) s += Math.exp(logits[t * E + e]! - m);
    for (let e = 0; e < E; e++) probs[t * E + e] = Math.exp(logits[t * E + e]! - m) / s;
  }
  let total = 0;
  for (const h of new Set(tokenHosts)) {
    const mine = [...tokenHosts.keys()].filter((t) => tokenHosts[t] === h);
    const local = [...expertHosts].filter((eh) => eh === h).length;
    if (local === 0) continue;
    let kl = 0;
    for (let e = 0; e < E; e++) {
      const dc = mine.reduce((s, t) => s + probs[t * E + e]!, 0) / mine.length;
      const dl = expertHosts[e] === h ? (1 - eps) / local : eps / (E - local);
      kl += dc * Math.log(dc / dl);
    }
    total += (mine.length / T) * kl;
  }
  return mu * total;
}

function loss(logits: tf.Tensor2D, tokenHosts: Int32Array, mu: number, eps: number): tf.Scalar {
  return tf.tidy(() => {
    const r = createLocMoERouter({ numExperts: 6 }).route({ logits });
    const l = localityLoss(r, { tokenHosts, expertHosts, mu, smoothing: eps });
    r.gates.dispose();
    return l;
  });
}

describe('LocMoE locality loss', () => {
  // Host 3 has no expert: it must contribute nothing.
  const tokenHosts = Int32Array.from([0, 1, 2, 0, 3, 1, 2]);
  const logits = seededMatrix(7, 6, 21, 1.5);

  it('equals the plain-JS KL(D_c ‖ D_l) per host, token-weighted', () => {
    const before = tf.memory().numTensors;
    const l = tf.tensor2d(logits, [7, 6]);
    const value = loss(l, tokenHosts, 0.3, 0.05);
    expectArraysClose(value.dataSync(), [reference(logits, 7, 6, tokenHosts, 0.3, 0.05)], 1e-5);
    tf.dispose([l, value]);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('is 0 when each host spreads its probability exactly as D_l, positive otherwise', () => {
    // Two hosts, 2 experts each: target (1 - eps)/2 local, eps/2 remote.
    const eps = 0.1;
    const hosts2 = Int32Array.from([0, 1]);
    const eh = Int32Array.from([0, 0, 1, 1]);
    const row0 = [0.45, 0.45, 0.05, 0.05].map(Math.log);
    const row1 = [0.05, 0.05, 0.45, 0.45].map(Math.log);
    const l = tf.tensor2d([row0, row1]);
    const r = createLocMoERouter({ numExperts: 4 }).route({ logits: l });
    const zero = localityLoss(r, { tokenHosts: hosts2, expertHosts: eh, mu: 1, smoothing: eps });
    expect(Math.abs(zero.dataSync()[0]!)).toBeLessThan(1e-6);
    const swapped = localityLoss(r, {
      tokenHosts: Int32Array.from([1, 0]),
      expertHosts: eh,
      mu: 1,
      smoothing: eps,
    });
    expect(swapped.dataSync()[0]!).toBeGreaterThan(1);
    tf.dispose([l, zero, swapped]);
    disposeRouting(r);
  });
  it('gradient in the router logits matches finite differences', () => {
    const f = (l: tf.Tensor) => loss(l as tf.Tensor2D, tokenHosts, 1, 0.05);
    const analytic = tf.tidy(() =>
      tf
        .grad(f)(tf.tensor2d(logits, [7, 6]))
        .dataSync(),
    );
    const numeric = finiteDifferenceGradient(
      (v) => tf.tidy(() => f(tf.tensor2d(v, [7, 6])).dataSync()[0]!),
      logits,
      1e-2,
    );
    expectArraysClose(analytic, numeric, 2e-2);
  });
  it('errors', () => {
    const l = tf.zeros([2, 6]) as tf.Tensor2D;
    const r = createLocMoERouter({ numExperts: 6 }).route({ logits: l });
    expect(() => localityLoss(r, { tokenHosts: Int32Array.from([0]), expertHosts })).toThrow(
      '@plexus/moe-routing/locality-loss: tokenHosts must be an Int32Array with one host per token (2), got length 1',
    );
    expect(() =>
      localityLoss(r, { tokenHosts: Int32Array.from([0, 1]), expertHosts: Int32Array.from([0]) }),
    ).toThrow(
      '@plexus/moe-routing/locality-loss: expertHosts must be an Int32Array with one host per routed expert (6), got length 1',
    );
    expect(() =>
      localityLoss(r, { tokenHosts: Int32Array.from([0, 1]), expertHosts, smoothing: 0 }),
    ).toThrow('@plexus/moe-routing/locality-loss: smoothing must be a number in (0, 1), got 0');
    disposeRouting(r);
    l.dispose();
  });
});
