import { SeededRandom } from '@plexus/tensor';
import { describe, expect, it } from 'vitest';
import {
  fastKvPolicy,
  h2oPolicy,
  PlexusKvCacheError,
  pyramidKvPolicy,
  snapKvPolicy,
  streamingLlmPolicy,
  type TokenEvictionPolicy,
} from '../src/index.js';

const WINDOW = 8;

/** Scores shaped for each policy: H2O `[length]`, SnapKV/PyramidKV `[window, length]`. */
function scoresFor(
  policy: TokenEvictionPolicy,
  length: number,
  rand: SeededRandom,
): Float32Array | undefined {
  if (policy.name === 'streaming-llm') return undefined;
  const n = policy.name === 'h2o' ? length : WINDOW * length;
  return rand.fillUniform(new Float32Array(n));
}

/**
 * Attention of `window` queries near a planted key: every key is random
 * except `needle`, which matches the queries. Returns softmax rows `[window, length]`.
 */
function needleAttention(
  length: number,
  needle: number,
  window: number,
  rand: SeededRandom,
): Float32Array {
  const d = 16;
  const keys = rand.fillNormal(new Float32Array(length * d));
  const target = rand.fillNormal(new Float32Array(d));
  keys.set(
    target.map((x) => x * 3),
    needle * d,
  );
  const out = new Float32Array(window * length);
  for (let w = 0; w < window; w++) {
    const q = target.map((x) => x + 0.3 * rand.normal());
    let max = Number.NEGATIVE_INFINITY;
    for (let p = 0; p < length; p++) {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += q[i]! * keys[p * d + i]!;
      out[w * length + p] = dot / Math.sqrt(d);
      max = Math.max(max, out[w * length + p]!);
    }
    let sum = 0;
    for (let p = 0; p < length; p++)
      sum += out[w * length + p] = Math.exp(out[w * length + p]! - max);
    for (let p = 0; p < length; p++) out[w * length + p]! /= sum;
  }
  return out;
}

describe('token eviction policies', () => {
  const policies = [
    streamingLlmPolicy({ sinks: 4, window: 28 }),
    h2oPolicy({ budget: 32, recent: 8 }),
    snapKvPolicy({ budget: 32, window: WINDOW }),
    pyramidKvPolicy({ averageBudget: 32, window: WINDOW, beta: 4 }),
    fastKvPolicy({ budget: 32, window: WINDOW, tspLayer: 2, tspBudget: 24 }),
  ];

  for (const policy of policies) {
    it(`${policy.name} keeps exactly its budget, ascending and distinct, in every layer`, () => {
      const rand = new SeededRandom(policy.name.length);
      for (let trial = 0; trial < 60; trial++) {
        const length = WINDOW + rand.int(300);
        const numLayers = 1 + rand.int(12);
        const layer = rand.int(numLayers);
        const keep = policy.select({
          length,
          layer,
          numLayers,
          scores: scoresFor(policy, length, rand),
        });
        expect(keep.length).toBe(Math.min(policy.budget(layer, numLayers), length));
        for (let i = 0; i < keep.length; i++) {
          expect(keep[i]).toBeGreaterThanOrEqual(i === 0 ? 0 : keep[i - 1]! + 1);
          expect(keep[i]).toBeLessThan(length);
        }
      }
    });
  }

  it('StreamingLLM keeps the sinks and the recent window', () => {
    const keep = streamingLlmPolicy({ sinks: 2, window: 3 }).select({
      length: 10,
      layer: 0,
      numLayers: 1,
    });
    expect(Array.from(keep)).toEqual([0, 1, 7, 8, 9]);
  });

  it('H2O keeps planted heavy hitters and the recent tokens', () => {
    const scores = new Float32Array(50).fill(0.01);
    scores[5] = 3;
    scores[17] = 2;
    const keep = h2oPolicy({ budget: 6, recent: 4 }).select({
      length: 50,
      layer: 0,
      numLayers: 1,
      scores,
    });
    expect(Array.from(keep)).toEqual([5, 17, 46, 47, 48, 49]);
  });

  for (const policy of [
    snapKvPolicy({ budget: 24, window: WINDOW }),
    pyramidKvPolicy({ averageBudget: 24, window: WINDOW }),
  ])
    it(`${policy.name} retrieves a planted needle that StreamingLLM drops`, () => {
      const rand = new SeededRandom(21);
      let found = 0;
      for (let trial = 0; trial < 10; trial++) {
        const length = 400;
        const needle = 50 + rand.int(300);
        const scores = needleAttention(length, needle, WINDOW, rand);
        const keep = policy.select({ length, layer: 0, numLayers: 4, scores });
        if (keep.includes(needle)) found++;
        const streaming = streamingLlmPolicy({ sinks: 4, window: 20 }).select({
          length,
          layer: 0,
          numLayers: 4,
        });
        expect(streaming.includes(needle)).toBe(false);
      }
      expect(found).toBe(10);
    });

  it('FastKV propagates tspBudget tokens (keeping the needle) and later layers keep min(budget, tspBudget)', () => {
    const policy = fastKvPolicy({ budget: 32, window: WINDOW, tspLayer: 3, tspBudget: 64 });
    const rand = new SeededRandom(4);
    const scores = needleAttention(300, 123, WINDOW, rand);
    const propagated = policy.propagate({ length: 300, layer: 3, numLayers: 8, scores });
    expect(propagated.length).toBe(64);
    expect(propagated.includes(123)).toBe(true);
    expect(policy.budget(2, 8)).toBe(32);
    expect(policy.budget(5, 8)).toBe(32);
    expect(
      fastKvPolicy({ budget: 32, window: WINDOW, tspLayer: 3, tspBudget: 20 }).budget(5, 8),
    ).toBe(20);
    expect(() => fastKvPolicy({ budget: 32, window: WINDOW, tspLayer: 3, tspBudget: 4 })).toThrow(
      /tspBudget \(4\) is below window/,
    );
  });

  it('PyramidKV budgets fall with depth and sum to numLayers x average', () => {
    const policy = pyramidKvPolicy({ averageBudget: 64, window: 8, beta: 4 });
    const budgets = Array.from({ length: 12 }, (_, l) => policy.budget(l, 12));
    expect(budgets.reduce((a, b) => a + b, 0)).toBe(12 * 64);
    for (let l = 1; l < 12; l++) expect(budgets[l]).toBeLessThanOrEqual(budgets[l - 1]!);
    expect(budgets[0]).toBeGreaterThan(100);
    expect(budgets[11]).toBeLessThan(20);
  });

  it('rejects bad options and missing scores', () => {
    const expectError = (fn: () => unknown, pattern: RegExp): void => {
      expect(fn).toThrow(pattern);
      try {
        fn();
      } catch (e) {
        expect(PlexusKvCacheError.isInstance(e)).toBe(true);
        expect((e as Error).message.startsWith('@plexus/kv-cache/compression: ')).toBe(true);
      }
    };
    expectError(
      () => streamingLlmPolicy({ sinks: -1, window: 4 }),
      /sinks is -1; expected a non-negative integer/,
    );
    expectError(() => h2oPolicy({ budget: 4, recent: 8 }), /recent \(8\) exceeds budget \(4\)/);
    expectError(
      () => snapKvPolicy({ budget: 16, window: 4, kernelSize: 4 }),
      /kernelSize is 4; expected a positive odd/,
    );
    expectError(() => pyramidKvPolicy({ averageBudget: 16, window: 4, beta: 0.5 }), /beta is 0.5/);
    expectError(() => pyramidKvPolicy({ averageBudget: 8, window: 8 }), /must exceed window/);
    // Tight budgets (top layer just above the window) still keep exactly the budget.
    const tight = pyramidKvPolicy({ averageBudget: 9, window: 8, beta: 100 });
    for (let l = 0; l < 7; l++) {
      const keep = tight.select({
        length: 50,
        layer: l,
        numLayers: 7,
        scores: new Float32Array(8 * 50),
      });
      expect(keep.length).toBe(tight.budget(l, 7));
    }
    expectError(
      () => h2oPolicy({ budget: 4, recent: 2 }).select({ length: 10, layer: 0, numLayers: 1 }),
      /h2o needs scores of 10 values; got none/,
    );
  });
});
