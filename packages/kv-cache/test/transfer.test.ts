import { SeededRandom } from '@plexus/tensor';
import { describe, expect, it } from 'vitest';
import {
  exportSequence,
  importSequence,
  PagedKvStorage,
  PlexusKvCacheError,
} from '../src/index.js';

const layout = { numLayers: 3, numBlocks: 16, blockSize: 8, numKvHeads: 2, headDim: 4 };

function filled(table: number[], numTokens: number, seed: number): PagedKvStorage {
  const s = new PagedKvStorage(layout);
  const rand = new SeededRandom(seed);
  for (let l = 0; l < layout.numLayers; l++)
    s.write(
      l,
      table,
      0,
      rand.fillNormal(new Float32Array(numTokens * 8)),
      rand.fillNormal(new Float32Array(numTokens * 8)),
    );
  return s;
}

function dense(
  s: PagedKvStorage,
  table: number[],
  numTokens: number,
  layer: number,
  which: 'k' | 'v',
): number[] {
  const out: number[] = [];
  const arr = (which === 'k' ? s.keys : s.values)[layer]!;
  for (let p = 0; p < numTokens; p++) {
    const at = (table[Math.floor(p / 8)]! * 8 + (p % 8)) * 8;
    out.push(...arr.subarray(at, at + 8));
  }
  return out;
}

describe('FlowKV-style transfer', () => {
  it('round-trips into another pool at other blocks (and another block size)', () => {
    const src = [3, 4, 5, 9];
    const from = filled(src, 29, 1);
    const t = exportSequence(from, src, 29);
    expect(t.perBlockCopyCalls).toBe(4 * 3 * 2);
    expect(t.copyCalls).toBe(2 * 3 * 2); // runs [3,4,5] and [9]
    const dst = [0, 1, 2, 3];
    const to = new PagedKvStorage(layout);
    expect(importSequence(t.buffer, to, dst)).toEqual({ numTokens: 29, copyCalls: 1 * 3 * 2 });
    for (let l = 0; l < 3; l++)
      for (const w of ['k', 'v'] as const)
        expect(dense(to, dst, 29, l, w)).toEqual(dense(from, src, 29, l, w));
    const wide = new PagedKvStorage({ ...layout, blockSize: 16 });
    importSequence(t.buffer, wide, [7, 2]);
    expect(Array.from(wide.keys[2]!.subarray(7 * 16 * 8, 7 * 16 * 8 + 8))).toEqual(
      dense(from, src, 1, 2, 'k'),
    );
  });

  it('rejects corrupted, truncated and mismatched buffers before writing', () => {
    const from = filled([0, 1], 12, 2);
    const { buffer } = exportSequence(from, [0, 1], 12);
    const to = new PagedKvStorage(layout);
    const reject = (b: Uint8Array, s: PagedKvStorage, pattern: RegExp): void => {
      let caught: unknown;
      try {
        importSequence(b, s, [4, 5]);
      } catch (e) {
        caught = e;
      }
      expect(PlexusKvCacheError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toMatch(/^@plexus\/kv-cache\/transfer: /);
      expect((caught as Error).message).toMatch(pattern);
    };
    const flipped = buffer.slice();
    flipped[100]! ^= 0x01;
    reject(flipped, to, /checksum mismatch/);
    reject(buffer.slice(0, buffer.length - 4), to, /expected \d+ for 12 tokens/);
    reject(buffer.slice(0, 10), to, /at least a 32-byte header/);
    const badMagic = buffer.slice();
    badMagic[0] = 0;
    reject(badMagic, to, /bad magic or version/);
    reject(buffer, new PagedKvStorage({ ...layout, headDim: 8 }), /expected 3 × 2 × 8/);
    expect(to.keys.every((a) => a.every((x) => x === 0))).toBe(true);
  });
});
