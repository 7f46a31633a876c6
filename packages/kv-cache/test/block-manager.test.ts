import { describe, expect, it } from 'vitest';
import { BlockManager, BlockPool, PlexusKvCacheError } from '../src/index.js';

const prompt = (n: number, offset = 0): number[] => Array.from({ length: n }, (_, i) => i + offset);

function manager(
  numBlocks = 16,
  extra: Partial<ConstructorParameters<typeof BlockManager>[0]> = {},
) {
  return new BlockManager({
    numBlocks,
    blockSize: 8,
    numHostBlocks: 8,
    watermark: 0,
    debug: true,
    ...extra,
  });
}

function expectError(fn: () => unknown, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(PlexusKvCacheError.isInstance(caught)).toBe(true);
  expect((caught as Error).message).toMatch(/^@plexus\/kv-cache\/[a-z-]+: /);
  expect((caught as Error).message).toMatch(pattern);
}

describe('BlockManager basics', () => {
  it('is a KvCacheV1', () => {
    expect(manager().specificationVersion).toBe('v1');
  });

  it('allocates ceil(tokens / blockSize) blocks and grows on append', () => {
    const m = manager();
    const { blockTable, numCachedTokens } = m.addSequence(1, prompt(10));
    expect(blockTable).toHaveLength(2);
    expect(numCachedTokens).toBe(0);
    const r = m.appendTokens(1, prompt(7));
    expect(r.newBlocks).toHaveLength(1);
    expect(r.copies).toHaveLength(0);
    expect(m.blockTable(1)).toHaveLength(3);
    m.free(1);
    expect(m.numFreeBlocks()).toBe(16);
  });

  it('answers ok / later / never with a watermark', () => {
    const m = new BlockManager({ numBlocks: 10, blockSize: 8, watermark: 0.2 });
    expect(m.watermarkBlocks).toBe(2);
    expect(m.canAdmit(prompt(64))).toBe('ok'); // 8 blocks, 2 left
    expect(m.canAdmit(prompt(65))).toBe('never'); // 9 > 10 - 2
    m.addSequence(1, prompt(8, 1000));
    expect(m.canAdmit(prompt(64))).toBe('later');
    m.free(1);
    expect(m.canAdmit(prompt(64))).toBe('ok');
  });

  it('fork shares blocks and copies only the diverging last block on write', () => {
    const m = manager();
    m.addSequence(1, prompt(12));
    m.fork(1, 2);
    const [b0, b1] = m.blockTable(1);
    expect(m.refCount(b0!)).toBe(2);
    const r = m.appendTokens(2, [99]);
    expect(r.copies).toEqual([{ src: b1, dst: m.blockTable(2)[1], numTokens: 4 }]);
    expect(m.blockTable(2)[0]).toBe(b0);
    expect(m.refCount(b1!)).toBe(1);
    // The parent now owns its last block alone: no copy.
    expect(m.appendTokens(1, [5]).copies).toHaveLength(0);
    expect(m.stats().cowCopies).toBe(1);
  });

  it('fork at a block boundary needs no copy', () => {
    const m = manager();
    m.addSequence(1, prompt(16));
    m.fork(1, 2);
    const r = m.appendTokens(2, [1]);
    expect(r.copies).toHaveLength(0);
    expect(r.newBlocks).toHaveLength(1);
  });

  it('reuses cached prefix blocks and keeps freed ones hittable', () => {
    const m = manager();
    m.addSequence(1, prompt(20));
    const hit = m.addSequence(2, [...prompt(16), 7, 7]);
    expect(hit.numCachedTokens).toBe(16);
    expect(hit.blockTable.slice(0, 2)).toEqual(m.blockTable(1).slice(0, 2));
    m.free(1);
    m.free(2);
    const again = m.addSequence(3, prompt(17));
    expect(again.numCachedTokens).toBe(16);
    expect(m.stats().prefixHits).toBe(4);
  });

  it('never caches the whole prompt: the last token is always computed', () => {
    const m = manager();
    m.addSequence(1, prompt(16));
    expect(m.addSequence(2, prompt(16)).numCachedTokens).toBe(8);
  });

  it('salts separate tenants', () => {
    const m = manager();
    m.addSequence(1, prompt(20), { salt: 'a' });
    expect(m.addSequence(2, prompt(20), { salt: 'b' }).numCachedTokens).toBe(0);
    expect(m.addSequence(3, prompt(20), { salt: 'a' }).numCachedTokens).toBe(16);
  });

  it('evicts least-recently-freed cached blocks only when plain free blocks run out', () => {
    const m = manager(4);
    m.addSequence(1, prompt(16));
    m.free(1); // 2 cached free blocks, 2 plain free
    m.addSequence(2, prompt(16, 500));
    expect(m.stats().evictions).toBe(0);
    m.addSequence(3, prompt(8, 900));
    expect(m.stats().evictions).toBe(1);
  });

  it('preempts by recompute and re-adds with prefix hits', () => {
    const m = manager();
    m.addSequence(1, prompt(20));
    const { tokens } = m.preemptByRecompute(1);
    expect(tokens).toHaveLength(20);
    expect(m.addSequence(1, tokens).numCachedTokens).toBe(16);
  });

  it('swaps out and in with plans that copy shared blocks once', () => {
    const m = manager();
    m.addSequence(1, prompt(12));
    m.fork(1, 2);
    const out = m.swapOut([1, 2]);
    expect(out.direction).toBe('out');
    expect(out.copies).toHaveLength(2);
    expect(m.status(1)).toBe('swapped');
    expect(m.numFreeHostBlocks()).toBe(6);
    expect(m.canSwapIn([1, 2])).toBe(true);
    const back = m.swapIn([1, 2]);
    expect(back.copies).toHaveLength(2);
    expect(m.blockTable(1)).toEqual(m.blockTable(2));
    m.free(1);
    m.free(2);
    m.checkInvariants();
  });
});

describe('BlockManager errors', () => {
  it('double free', () => {
    const m = manager();
    m.addSequence(1, prompt(3));
    m.free(1);
    expectError(() => m.free(1), /double free: sequence 1 was already freed; expected a live/);
  });

  it('use after free', () => {
    const m = manager();
    m.addSequence(1, prompt(3));
    m.free(1);
    expectError(() => m.appendTokens(1, [1]), /use after free: appendTokens on sequence 1/);
    expectError(() => m.fork(1, 2), /use after free: fork/);
  });

  it('unknown and duplicate ids', () => {
    const m = manager();
    expectError(() => m.blockTable(5), /unknown sequence 5; expected an id from addSequence/);
    m.addSequence(1, prompt(3));
    expectError(() => m.addSequence(1, prompt(3)), /sequence 1 already exists/);
    expectError(() => m.fork(1, 1), /already exists/);
  });

  it('use after preemption', () => {
    const m = manager();
    m.addSequence(1, prompt(3));
    m.preemptByRecompute(1);
    expectError(
      () => m.appendTokens(1, [1]),
      /preempted by recompute; expected it to be added again/,
    );
  });

  it('admission refused', () => {
    const m = manager(2);
    expectError(() => m.addSequence(1, prompt(17)), /canAdmit says 'never'/);
  });

  it('out of blocks on append', () => {
    const m = manager(2);
    m.addSequence(1, prompt(16));
    expect(m.canAppend(1)).toBe(false);
    expectError(
      () => m.appendTokens(1, [1]),
      /out of blocks: appending 1 tokens .* check canAppend/,
    );
  });

  it('swap misuse', () => {
    const m = manager(16, { numHostBlocks: 1 });
    m.addSequence(1, prompt(16));
    expect(m.canSwapOut([1])).toBe(false);
    expectError(() => m.swapOut([1]), /needs 2 free host blocks, 1 are free/);
    expectError(() => m.swapIn([1]), /sequence 1 is running; expected a swapped sequence/);
    expectError(() => m.swapOut([1, 1]), /lists a sequence twice/);
    m.addSequence(2, prompt(3, 100));
    m.swapOut([2]);
    expectError(() => m.appendTokens(2, [1]), /is swapped out; expected a running sequence/);
  });

  it('bad options and tokens', () => {
    expectError(
      () => new BlockManager({ numBlocks: 4, blockSize: 12 as 8 }),
      /blockSize is 12; expected 8, 16 or 32/,
    );
    expectError(() => new BlockManager({ numBlocks: 0, blockSize: 8 }), /numBlocks is 0/);
    expectError(
      () => new BlockManager({ numBlocks: 4, blockSize: 8, watermark: 1 }),
      /watermark is 1/,
    );
    const m = manager();
    expectError(() => m.addSequence(1, [1.5]), /tokens\[0\] is 1.5; expected an integer/);
    expectError(() => m.addSequence(1, []), /no tokens/);
  });

  it('block pool double free, use after free and range', () => {
    const pool = new BlockPool(2);
    const b = pool.allocate();
    pool.release(b);
    expectError(
      () => pool.release(b),
      /double free: block 0 is already free; expected a referenced block/,
    );
    expectError(() => pool.retain(b), /use after free: block 0 is free/);
    expectError(() => pool.release(7), /block id 7 is out of range/);
    pool.allocate();
    pool.allocate();
    expectError(() => pool.allocate(), /out of blocks/);
  });
});

describe('ended-id memory', () => {
  it('stays bounded: ids ended long ago become unknown', () => {
    const m = new BlockManager({ numBlocks: 4, blockSize: 8, watermark: 0 });
    for (let id = 0; id < 5000; id++) {
      m.addSequence(id, [1]);
      m.free(id);
    }
    expect(() => m.free(4999)).toThrow(/double free/);
    expect(() => m.free(0)).toThrow(/unknown sequence 0/);
  });
});
