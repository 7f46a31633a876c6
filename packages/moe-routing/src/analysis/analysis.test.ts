import { describe, expect, it } from 'vitest';
import { simulateExpertCache } from './cache-sim.js';
import { segmentCacheHitRate, segmentRoutingPerformance } from './locality.js';
import { traceFromAssignments } from './trace.js';

const trace = [[0], [1], [2], [0], [1]];

describe('expert cache simulator (hand-computed, C = 2)', () => {
  it('LRU evicts the expert about to be used: 0 hits', () => {
    expect(simulateExpertCache(trace, { numExperts: 3, capacity: 2, policy: 'lru' })).toEqual({
      hits: 0,
      misses: 5,
      hitRate: 0,
    });
  });
  it('LFU ties on frequency fall back to LRU: 0 hits', () => {
    expect(simulateExpertCache(trace, { numExperts: 3, capacity: 2, policy: 'lfu' }).hits).toBe(0);
  });
  it('optimal (Belady) keeps expert 0, used next: 1 hit', () => {
    expect(simulateExpertCache(trace, { numExperts: 3, capacity: 2, policy: 'optimal' }).hits).toBe(
      1,
    );
  });
  it('LFU keeps the frequent expert', () => {
    const t = [[0], [1], [0], [2], [0], [1]];
    // LFU: 0 (miss) 1 (miss) 0 (hit) 2 (miss, evicts 1) 0 (hit) 1 (miss): 2 hits.
    expect(simulateExpertCache(t, { numExperts: 3, capacity: 2, policy: 'lfu' }).hits).toBe(2);
    // LRU: 0 m, 1 m, 0 h, 2 m (evicts 1), 0 h, 1 m (evicts 2): 2 hits too.
    expect(simulateExpertCache(t, { numExperts: 3, capacity: 2, policy: 'lru' }).hits).toBe(2);
  });
  it('top-2 tokens access both experts', () => {
    const t = [
      [0, 1],
      [0, 2],
      [0, 1],
    ];
    // Optimal C = 2: 0 m, 1 m, 0 h, 2 m (evict 1? next uses: 0 at 4, 1 at 5 → evict 1), 0 h, 1 m.
    expect(simulateExpertCache(t, { numExperts: 3, capacity: 2, policy: 'optimal' }).hits).toBe(2);
  });
  it('errors', () => {
    expect(() => simulateExpertCache(trace, { numExperts: 3, capacity: 4, policy: 'lru' })).toThrow(
      '@plexus/moe-routing/cache-sim: capacity must be an integer in [1, 3], got 4',
    );
    expect(() => simulateExpertCache([[5]], { numExperts: 3, capacity: 1, policy: 'lru' })).toThrow(
      '@plexus/moe-routing/cache-sim: trace[0] names expert 5; expected an integer in [0, 3)',
    );
  });
});

describe('SRP and SCH (hand-computed)', () => {
  it('SRP of [0],[0],[1],[0] with m = 2 is 0.75 at θ = 1', () => {
    // Windows: {0:2}, {0:1, 1:1}, {0:1, 1:1}; 6 activations.
    // θ=0: 6 pairs → F1 = 12 / (12 + 6); θ=1: 5 pairs → 12 / (10 + 6); θ=2: 1 pair → 4 / (2 + 6).
    const r = segmentRoutingPerformance([[0], [0], [1], [0]], 2, 2);
    expect(r.threshold).toBe(1);
    expect(r.srp).toBeCloseTo(0.75, 12);
    expect(Array.from(r.f1ByThreshold)).toEqual([12 / 18, 12 / 16, 4 / 8]);
  });
  it('SRP is 1 for a trace that never changes experts', () => {
    expect(
      segmentRoutingPerformance(
        [
          [1, 2],
          [1, 2],
          [1, 2],
        ],
        4,
        2,
      ).srp,
    ).toBe(1);
  });
  it('SCH of [0],[1],[2],[0],[1] with m = 2, C = 2 is 3/5', () => {
    // Warm start: 0 and 1 are free. Token 2: future counts in [2, 4) are e0 = 1, e1 = 0 → evict 1.
    // Token 3 hits 0. Token 4: e0 and e2 both 0 future uses; e2 older → evicted; miss.
    expect(segmentCacheHitRate(trace, 3, 2, 2)).toBeCloseTo(0.6, 12);
  });
  it('SCH errors name the module and the expectation', () => {
    expect(() => segmentRoutingPerformance([[0]], 2, 3)).toThrow(
      '@plexus/moe-routing/locality: segment length m = 3 must be <= the trace length 1',
    );
  });
  it('traceFromAssignments groups assignments by token', () => {
    expect(traceFromAssignments(Int32Array.from([0, 1, 0]), Int32Array.from([3, 1, 2]), 2)).toEqual(
      [[2, 3], [1]],
    );
  });
});
