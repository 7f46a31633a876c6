import { expect, it } from 'vitest';
import { BlockManager, PagedKvStorage, pagedAttention } from '../src/index.js';

it('the README usage example runs', () => {
  // --- README example (keep in sync) ---
  const manager = new BlockManager({ numBlocks: 64, blockSize: 16, numHostBlocks: 16 });
  const kv = new PagedKvStorage({
    numLayers: 1,
    numBlocks: 64,
    blockSize: 16,
    numKvHeads: 2,
    headDim: 8,
  });
  const { blockTable } = manager.addSequence(1, [101, 102, 103, 104, 105]); // prompt token ids
  kv.write(
    0,
    blockTable,
    0,
    new Float32Array(5 * 2 * 8).fill(0.1),
    new Float32Array(5 * 2 * 8).fill(1),
  );
  const q = new Float32Array(4 * 8).fill(1); // decode query: 4 heads over 2 KV heads
  const out = pagedAttention(kv, 0, q, [{ blockTable, queryStart: 4, numQueries: 1 }], {
    numHeads: 4,
  });
  manager.free(1);
  // --- end ---
  expect(Array.from(out).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
  expect(manager.numFreeBlocks()).toBe(64);
});
