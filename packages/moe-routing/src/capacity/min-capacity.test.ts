import { readFileSync } from 'node:fs';
import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededMatrix, setupCpu } from '../../test/helpers.js';
import { createLocMoERouter } from '../routers/locmoe.js';
import { grapGateLogits, grapGateWeight } from '../routers/locmoe-gate.js';
import { disposeRouting } from '../routers/types.js';
import { expertCapacityLowerBound } from './min-capacity.js';
import { gateAngleDelta } from './min-capacity-delta.js';
import { erfc, logGamma, regularizedIncompleteBeta } from './min-capacity-math.js';

beforeAll(setupCpu);

// Made by test/fixtures/min-capacity.py (scipy.special).
const fixture = JSON.parse(
  readFileSync(new URL('../../test/fixtures/min-capacity.json', import.meta.url), 'utf8'),
) as {
  betainc: { x: number; a: number; b: number; value: number }[];
  erfc: { x: number; value: number }[];
  lgamma: { x: number; value: number }[];
  bounds: {
    delta: number;
    modelDim: number;
    numExperts: number;
    pDelta: number;
    ecMin: number;
    ecMinLargeD: number;
    ecMinExp: number;
  }[];
};

const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);

describe('LocMoE minimum expert capacity', () => {
  it('special functions match scipy', () => {
    for (const c of fixture.betainc)
      expect(Math.abs(regularizedIncompleteBeta(c.x, c.a, c.b) - c.value)).toBeLessThan(1e-12);
    for (const c of fixture.erfc) expect(rel(erfc(c.x), c.value)).toBeLessThan(1e-12);
    for (const c of fixture.lgamma) expect(Math.abs(logGamma(c.x) - c.value)).toBeLessThan(1e-9);
  });
  it('bound matches scipy (Lemma 3, Theorem 1 and its large-d forms)', () => {
    for (const c of fixture.bounds) {
      const b = expertCapacityLowerBound(c);
      expect(rel(b.pDelta, c.pDelta)).toBeLessThan(1e-10);
      expect(rel(b.ecMin, c.ecMin)).toBeLessThan(1e-10);
      expect(rel(b.ecMinLargeD, c.ecMinLargeD)).toBeLessThan(1e-10);
      expect(rel(b.ecMinExp, c.ecMinExp)).toBeLessThan(1e-10);
      expect(b.capacity).toBe(Math.max(1, Math.ceil(c.ecMin)));
      // Theorem 1's chain: erfc(x) <= exp(-x²), so the exponential form is below (equal at δ = 0).
      expect(b.ecMinExp).toBeLessThanOrEqual(b.ecMinLargeD);
    }
  });
  it('p_δ is the share of uniform unit vectors with |cos| >= δ to a fixed axis (Monte Carlo)', () => {
    const rng = new SeededRandom(4);
    const d = 32;
    const delta = 0.2;
    const n = 20000;
    let hits = 0;
    const v = new Float32Array(d);
    for (let s = 0; s < n; s++) {
      rng.fillNormal(v);
      let norm = 0;
      for (const x of v) norm += x * x;
      if (Math.abs(v[0]!) / Math.sqrt(norm) >= delta) hits++;
    }
    const p = expertCapacityLowerBound({ delta, modelDim: d, numExperts: 4 }).pDelta;
    // Binomial standard error at n = 20000 is ~0.0035.
    expect(Math.abs(hits / n - p)).toBeLessThan(0.015);
  });
  it('gateAngleDelta is the smallest routed cosine (plain JS), quantiles above it', () => {
    const before = tf.memory().numTensors;
    const xs = seededMatrix(9, 8, 12);
    const x = tf.tensor2d(xs, [9, 8]);
    const w = grapGateWeight(8, 4);
    const logits = grapGateLogits(x, 4);
    const r = createLocMoERouter({ numExperts: 4 }).route({ logits });
    const cos: number[] = [];
    for (let a = 0; a < r.tokenIndex.length; a++) {
      const t = r.tokenIndex[a]!;
      const e = r.expertIndex[a]!;
      let dot = 0;
      let nx = 0;
      for (let j = 0; j < 8; j++) {
        nx += xs[t * 8 + j]! ** 2;
        if (Math.floor(j / 2) === e) dot += xs[t * 8 + j]!;
      }
      cos.push(dot / (Math.sqrt(nx) * Math.sqrt(2)));
    }
    cos.sort((a, b) => a - b);
    expect(gateAngleDelta(x, w, r)).toBeCloseTo(Math.max(0, cos[0]!), 5);
    expect(gateAngleDelta(x, w, r, 1)).toBeCloseTo(cos[cos.length - 1]!, 5);
    disposeRouting(r);
    tf.dispose([x, w, logits]);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('errors', () => {
    expect(() => expertCapacityLowerBound({ delta: 1, modelDim: 8, numExperts: 2 })).toThrow(
      '@plexus/moe-routing/min-capacity: delta must be a number in [0, 1), got 1',
    );
    expect(() => expertCapacityLowerBound({ delta: 0.1, modelDim: 1, numExperts: 2 })).toThrow(
      '@plexus/moe-routing/min-capacity: modelDim must be an integer >= 2, got 1',
    );
  });
});
