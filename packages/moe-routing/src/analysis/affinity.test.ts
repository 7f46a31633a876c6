import { describe, expect, it } from 'vitest';
import { interLayerAffinity, predictNextExperts, prefetchHitRate } from './affinity.js';

describe('inter-layer expert affinity (hand-computed)', () => {
  // 3 experts, 2 layers, 4 tokens (top-1).
  const layer0 = [[0], [0], [0], [1]];
  const layer1 = [[2], [2], [1], [0]];
  it('P(e1 | e0) counts co-occurrences per token', () => {
    const [m] = interLayerAffinity([layer0, layer1], 3);
    // From expert 0: 2 → 2, 1 → 1 (of 3); from expert 1: → 0; expert 2 unseen.
    expect(Array.from(m!)).toEqual([0, 1 / 3, 2 / 3, 1, 0, 0, 0, 0, 0]);
  });
  it('the prefetcher picks the most likely next experts; hit rate on the trace', () => {
    const aff = interLayerAffinity([layer0, layer1], 3);
    expect(predictNextExperts(aff[0]!, 3, [0], 1)).toEqual([2]);
    expect(predictNextExperts(aff[0]!, 3, [0, 1], 2)).toEqual([0, 2]);
    // count 1: tokens 0, 1 hit (2), token 2 misses (1 ≠ 2), token 3 hits (0): 3/4.
    expect(prefetchHitRate([layer0, layer1], aff, 3, 1)).toBe(0.75);
  });
  it('errors', () => {
    expect(() => interLayerAffinity([layer0], 3)).toThrow(
      '@plexus/moe-routing/affinity: expected traces of at least 2 layers, got 1',
    );
    expect(() => interLayerAffinity([layer0, [[0]]], 3)).toThrow(
      /layer 1 has 1 tokens; expected 4/,
    );
  });
});
