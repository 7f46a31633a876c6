import { SeededRandom } from '@plexus/tensor';
import { describe, expect, it } from 'vitest';
import { HierarchicalKvStorage, PagedKvStorage, pagedAttention } from '../src/index.js';

const layout = { numLayers: 2, numBlocks: 8, blockSize: 8, numKvHeads: 2, headDim: 16 };

function readRows(
  src: HierarchicalKvStorage['draft'],
  layer: number,
  table: number[],
  n: number,
  which: 'k' | 'v',
) {
  const d = layout.headDim;
  const out = new Float32Array(n * layout.numKvHeads * d);
  for (let p = 0; p < n; p++)
    for (let h = 0; h < layout.numKvHeads; h++) {
      const tile = src.tile(which, layer, table[Math.floor(p / 8)]!, h, 8);
      out.set(tile.data.subarray((p % 8) * d, ((p % 8) + 1) * d), (p * layout.numKvHeads + h) * d);
    }
  return out;
}

describe('QuantSpec hierarchical KV', () => {
  it('target reads int8 precision, draft int4-like, from the same planes', () => {
    const store = new HierarchicalKvStorage(layout, { groupSize: 8 });
    const rand = new SeededRandom(3);
    const table = [6, 1, 4];
    const n = 20;
    const k = rand.fillNormal(new Float32Array(n * 32));
    const v = rand.fillNormal(new Float32Array(n * 32), 0, 5);
    store.write(1, table, 0, k, v);
    for (const [which, x] of [
      ['k', k],
      ['v', v],
    ] as const) {
      const target = readRows(store.target, 1, table, n, which);
      const draft = readRows(store.draft, 1, table, n, which);
      for (let gStart = 0; gStart < x.length; gStart += 8) {
        let maxAbs = 0;
        for (let i = 0; i < 8; i++) maxAbs = Math.max(maxAbs, Math.abs(x[gStart + i]!));
        const s = (maxAbs / 127) * (1 + 1e-6);
        for (let i = gStart; i < gStart + 8; i++) {
          expect(Math.abs(target[i]! - x[i]!)).toBeLessThanOrEqual(s / 2);
          expect(Math.abs(draft[i]! - x[i]!)).toBeLessThanOrEqual(8.5 * s);
        }
      }
    }
    expect(store.bytesPerValue('draft')).toBe(1);
    expect(store.bytesPerValue('target')).toBe(1.5);
  });

  it('both views feed paged attention; target is closer to fp32 than draft', () => {
    const store = new HierarchicalKvStorage(layout);
    const exact = new PagedKvStorage(layout);
    const rand = new SeededRandom(5);
    const table = [2, 7, 0, 5];
    const n = 30;
    const k = rand.fillNormal(new Float32Array(n * 32));
    const v = rand.fillNormal(new Float32Array(n * 32));
    store.write(0, table, 0, k, v);
    exact.write(0, table, 0, k, v);
    store.copyBlocks([{ src: 5, dst: 3, numTokens: 6 }]);
    const q = rand.fillNormal(new Float32Array(4 * 16));
    const query = [{ blockTable: table, queryStart: n - 1, numQueries: 1 }];
    const ref = pagedAttention(exact, 0, q, query, { numHeads: 4 });
    const err = (out: Float32Array): number =>
      Math.max(...out.map((x, i) => Math.abs(x - ref[i]!)));
    const target = err(pagedAttention(store.target, 0, q, query, { numHeads: 4 }));
    const draft = err(pagedAttention(store.draft, 0, q, query, { numHeads: 4 }));
    expect(target).toBeLessThan(0.02);
    expect(draft).toBeLessThan(0.25);
    expect(target).toBeLessThan(draft);
    // The copied-on-write block reads the same as its source.
    const moved = readRows(store.target, 0, [3], 6, 'k');
    expect(moved).toEqual(readRows(store.target, 0, [5], 6, 'k'));
  });
});
