import { describe, expect, it } from 'vitest';
import { BlockManager, PlexusKvCacheError } from '../src/index.js';

const tokens = (n: number, offset = 0): number[] => Array.from({ length: n }, (_, i) => i + offset);

function manager(numBlocks = 16) {
  return new BlockManager({ numBlocks, blockSize: 8, watermark: 0, debug: true });
}

describe('BlockManager.truncate (rejected speculative tokens)', () => {
  it('releases blocks past the new end and keeps tokens, table and keys consistent', () => {
    const m = manager();
    m.addSequence(1, tokens(5));
    m.appendTokens(1, tokens(15, 100)); // 20 tokens, 3 blocks
    expect(m.blockTable(1)).toHaveLength(3);
    const free = m.numFreeBlocks();
    m.truncate(1, 9);
    expect(m.tokens(1)).toEqual([...tokens(5), ...tokens(4, 100)]);
    expect(m.blockTable(1)).toHaveLength(2);
    expect(m.numFreeBlocks()).toBe(free + 1);
    // Appending again behaves like a sequence that never had the dropped tokens.
    m.appendTokens(1, tokens(7, 500));
    expect(m.tokens(1)).toHaveLength(16);
    expect(m.blockTable(1)).toHaveLength(2);
    m.checkInvariants();
    m.free(1);
    m.checkInvariants();
  });

  it('a block it owns alone leaves the prefix cache once partly filled; a shared one is copied on the next write', () => {
    const m = manager();
    m.addSequence(1, tokens(16)); // two full blocks, both registered
    m.fork(1, 2);
    const [, second] = m.blockTable(1);
    m.truncate(1, 12); // second block now shared (with 2) and partly filled for 1
    const { copies } = m.appendTokens(1, [999]);
    expect(copies).toEqual([{ src: second, dst: m.blockTable(1)[1], numTokens: 4 }]);
    expect(m.tokens(2)).toEqual(tokens(16)); // the fork still sees its tokens
    m.free(2);
    // A fresh sequence starting with the original 16 tokens still hits both cached blocks.
    expect(m.addSequence(3, [...tokens(16), 1234]).numCachedTokens).toBe(8 * 2);
    m.free(3);
    // Sequence 1 owns its (copied) block alone: truncating into it drops its key.
    m.appendTokens(1, tokens(3, 700)); // 16 tokens, full again and registered
    m.truncate(1, 10);
    m.free(1);
    const hits = m.addSequence(4, [...tokens(12), 999, ...tokens(3, 700), 1234]).numCachedTokens;
    expect(hits).toBe(8); // only the first block: the second's key was dropped
    m.checkInvariants();
  });

  it('rejects lengths outside [1, length] and unknown sequences', () => {
    const m = manager();
    m.addSequence(1, tokens(4));
    for (const bad of [0, 5, 1.5]) {
      expect(() => m.truncate(1, bad)).toThrow(PlexusKvCacheError);
    }
    expect(() => m.truncate(9, 1)).toThrow(/sequence 9/);
  });
});

describe('BlockManager.cachedPrefixLength (cache-aware scheduling)', () => {
  it('counts the cached leading blocks without admitting or counting a query', () => {
    const m = manager();
    m.addSequence(1, tokens(20));
    const before = m.stats();
    expect(m.cachedPrefixLength([...tokens(20), 7])).toBe(16);
    expect(m.cachedPrefixLength([...tokens(9), 99, 98])).toBe(8);
    expect(m.cachedPrefixLength(tokens(5, 300))).toBe(0);
    expect(m.cachedPrefixLength(tokens(20), { salt: 'other tenant' })).toBe(0);
    expect(m.stats()).toEqual(before);
    expect(m.sequenceIds()).toEqual([1]);
  });
});
