import { describe, expect, it } from 'vitest';
import { PlexusKvCacheError, RadixTree } from '../src/index.js';
import { prng } from './prng.js';

function bruteForcePrefix(stored: number[][], query: number[], page: number): number {
  let best = 0;
  for (const s of stored) {
    let i = 0;
    while (i < s.length && i < query.length && s[i] === query[i]) i++;
    best = Math.max(best, i - (i % page));
  }
  return Math.min(best, query.length - (query.length % page));
}

describe('RadixTree', () => {
  for (const page of [1, 4]) {
    it(`matches the longest stored prefix (page size ${page}) on random inserts`, () => {
      const r = prng(page);
      const tree = new RadixTree<number>({ pageSize: page });
      const stored: number[][] = [];
      for (let step = 0; step < 400; step++) {
        const base = stored.length > 0 && r.chance(0.7) ? stored[r.int(stored.length)]! : [];
        const seq = base.slice(0, r.int(base.length + 1));
        const extra = r.int(12);
        for (let i = 0; i < extra; i++) seq.push(r.int(3));
        const expected = bruteForcePrefix(stored, seq, page);
        if (r.chance(0.5)) {
          expect(tree.peekPrefixLength(seq)).toBe(expected);
          const match = tree.matchPrefix(seq);
          expect(match.length).toBe(expected);
          // Values are token positions * 1000 + token: check they line up.
          expect(match.values).toEqual(
            Array.from({ length: expected / page }, (_, i) => i * page * 1000 + seq[i * page]!),
          );
        } else {
          const values = Array.from(
            { length: Math.floor(seq.length / page) },
            (_, i) => i * page * 1000 + seq[i * page]!,
          );
          expect(tree.insert(seq, values)).toBe(expected);
          stored.push(seq.slice(0, seq.length - (seq.length % page)));
        }
      }
      const total = new Set<string>();
      for (const s of stored)
        for (let i = page; i <= s.length; i += page) total.add(s.slice(0, i).join(','));
      expect(tree.size).toBe(total.size * page);
    });
  }

  it('evicts least-recently-used unlocked leaves and counts', () => {
    const tree = new RadixTree<string>();
    tree.insert([1, 2, 3], ['a', 'b', 'c']);
    tree.insert([1, 2, 4, 5], ['a', 'b', 'd', 'e']);
    tree.insert([9, 9], ['x', 'y']);
    const locked = tree.matchPrefix([9, 9]);
    tree.lock(locked.node);
    tree.matchPrefix([1, 2, 4, 5]); // [1,2,3] is now the LRU leaf
    expect(tree.evictableSize).toBe(5);
    const evicted: string[][] = [];
    expect(tree.evict(1, (v) => evicted.push(v))).toBe(1);
    expect(evicted).toEqual([['c']]);
    expect(tree.evict(100)).toBe(4); // [4,5] then [1,2]; [9,9] is locked
    expect(tree.size).toBe(2);
    tree.unlock(locked.node);
    expect(tree.evict(100)).toBe(2);
    expect(tree.size).toBe(0);
    expect(tree.stats().evictedTokens).toBe(7);
    expect(tree.stats().hitTokens).toBe(6);
  });

  it('orders requests by cached prefix length', () => {
    const tree = new RadixTree<number>();
    tree.insert([1, 2, 3, 4], [0, 0, 0, 0]);
    const order = tree.cacheAwareOrder([[7], [1, 2, 9], [1, 2, 3, 4, 5], [1]]);
    expect(order).toEqual([2, 1, 3, 0]);
    expect(tree.stats().queriedTokens).toBe(0);
  });

  it('rejects bad input with clear errors', () => {
    expect(() => new RadixTree({ pageSize: 0 })).toThrow(
      /^@plexus\/kv-cache\/radix-tree: pageSize is 0/,
    );
    const tree = new RadixTree<number>({ pageSize: 2 });
    expect(() => tree.insert([1, 2, 3, 4], [1])).toThrow(/insert got 1 values for 2 pages/);
    const m = tree.matchPrefix([]);
    tree.insert([1, 2], [1]);
    const n = tree.matchPrefix([1, 2]);
    expect(() => tree.unlock(n.node)).toThrow(PlexusKvCacheError);
    expect(m.length).toBe(0);
  });
});
