import { SeededRandom } from '@plexus/tensor';
import { describe, expect, it } from 'vitest';
import { logSoftmax, sampleToken } from '../src/engine/sampling.js';

const logits = Float32Array.from([0.5, 2, -1, 2, 1.2, 0]);
const base = { temperature: 0, topK: 0, topP: 1, logprobs: 0 };

describe('sampleToken', () => {
  it('is greedy at temperature 0, ties going to the lower id', () => {
    expect(sampleToken(logits, base, new SeededRandom(1)).token).toBe(1);
  });

  it('returns the top log-probabilities best first, equal to a sorted reference', () => {
    const lp = logSoftmax(logits);
    const ref = Array.from(lp.keys())
      .sort((a, b) => lp[b]! - lp[a]! || a - b)
      .slice(0, 4);
    const got = sampleToken(logits, { ...base, logprobs: 4 }, new SeededRandom(1)).topLogprobs;
    expect(got.map((t) => t.token)).toEqual(ref);
    for (const t of got) expect(t.logprob).toBeCloseTo(lp[t.token]!, 12);
  });

  it('samples softmax(logits / T) without truncation (frequencies over 40,000 draws)', () => {
    const T = 0.7;
    const rng = new SeededRandom(3);
    const counts = new Array<number>(logits.length).fill(0);
    const n = 40_000;
    for (let i = 0; i < n; i++)
      counts[sampleToken(logits, { ...base, temperature: T }, rng).token]!++;
    const p = logSoftmax(Float32Array.from(logits, (v) => v / T)).map(Math.exp);
    counts.forEach((c, i) => {
      expect(Math.abs(c / n - p[i]!)).toBeLessThan(0.01);
    });
  });

  it('top-k and top-p keep only the most likely tokens', () => {
    const rng = new SeededRandom(4);
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++)
      seen.add(sampleToken(logits, { ...base, temperature: 1, topK: 2 }, rng).token);
    expect([...seen].sort()).toEqual([1, 3]);
    const nucleus = new Set<number>();
    for (let i = 0; i < 2000; i++)
      nucleus.add(sampleToken(logits, { ...base, temperature: 1, topP: 0.3 }, rng).token);
    expect([...nucleus]).toEqual([1]);
  });
});
