import { SeededRandom } from '@plexus/tensor';
import { describe, expect, it } from 'vitest';
import {
  BlockManager,
  fastKvPolicy,
  h2oPolicy,
  PagedKvStorage,
  pagedAttention,
  pyramidKvPolicy,
  snapKvPolicy,
  streamingLlmPolicy,
  type TokenEvictionPolicy,
} from '../src/index.js';

const L = 4;
const kvH = 2;
const d = 8;
const H = 4;
const bs = 8;
const row = kvH * d;
const LENGTH = 100;
const WINDOW = 8;

/** Dense float64 attention of one query token over explicit per-KV-head key/value lists. */
function denseOverKept(q: Float32Array, keys: number[][][], values: number[][][]): Float64Array {
  const out = new Float64Array(H * d);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / kvH));
    const ks = keys[g]!;
    const scores = ks.map((k) => k.reduce((s, x, i) => s + x * q[h * d + i]!, 0) / Math.sqrt(d));
    const max = Math.max(...scores);
    const w = scores.map((s) => Math.exp(s - max));
    const sum = w.reduce((a, b) => a + b, 0);
    w.forEach((wt, t) => {
      for (let i = 0; i < d; i++) out[h * d + i]! += (wt / sum) * values[g]![t]![i]!;
    });
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  let worst = 0;
  for (let i = 0; i < expected.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tol);
}

/** Per layer, per KV head: the positions the policy keeps, with the scores it needs. */
function choose(policy: TokenEvictionPolicy, rand: SeededRandom): Int32Array[][] {
  const scoresFor = (length: number): Float32Array =>
    Float32Array.from({ length: policy.name === 'h2o' ? length : WINDOW * length }, () =>
      rand.uniform(),
    );
  return Array.from({ length: L }, (_, layer) =>
    Array.from({ length: kvH }, () => {
      if (policy.name === 'fastkv') {
        const fast = policy as ReturnType<typeof fastKvPolicy>;
        if (layer > fast.tspLayer) {
          // Later layers only ever see the propagated tokens; their choice indexes into them.
          const propagated = fast.propagate({
            length: LENGTH,
            layer: fast.tspLayer,
            numLayers: L,
            scores: scoresFor(LENGTH),
          });
          const sel = policy.select({
            length: propagated.length,
            layer,
            numLayers: L,
            scores: scoresFor(propagated.length),
          });
          return Int32Array.from(sel, (i) => propagated[i]!);
        }
      }
      return policy.select({ length: LENGTH, layer, numLayers: L, scores: scoresFor(LENGTH) });
    }),
  );
}

const policies: TokenEvictionPolicy[] = [
  streamingLlmPolicy({ sinks: 4, window: 20 }),
  h2oPolicy({ budget: 30, recent: 10 }),
  snapKvPolicy({ budget: 40, window: WINDOW }),
  pyramidKvPolicy({ averageBudget: 30, window: WINDOW, beta: 4 }),
  fastKvPolicy({ budget: 24, window: WINDOW, tspLayer: 1, tspBudget: 48 }),
];

describe('applying eviction choices to the block tables', () => {
  for (const [pi, policy] of policies.entries()) {
    it(`${policy.name}: per-layer budgets respected, blocks freed, attention equals dense over the kept tokens, a fork untouched`, () => {
      const rand = new SeededRandom(40 + pi);
      const manager = new BlockManager({ numBlocks: 64, blockSize: bs, watermark: 0, debug: true });
      const storage = new PagedKvStorage({
        numLayers: L,
        numBlocks: 64,
        blockSize: bs,
        numKvHeads: kvH,
        headDim: d,
      });
      const prompt = Array.from({ length: LENGTH }, (_, i) => i % 50);
      manager.addSequence(0, prompt);
      const denseK: Float32Array[] = [];
      const denseV: Float32Array[] = [];
      for (let l = 0; l < L; l++) {
        denseK.push(rand.fillNormal(new Float32Array(LENGTH * row)));
        denseV.push(rand.fillNormal(new Float32Array(LENGTH * row)));
        storage.write(l, manager.blockTable(0), 0, denseK[l]!, denseV[l]!);
      }
      // A fork shares every block: compaction must copy instead of writing them.
      manager.fork(0, 1);
      const kept = choose(policy, rand);
      const freeBefore = manager.numFreeBlocks();
      const plan = manager.compact(0, kept);
      storage.compact(plan);
      manager.checkInvariants();

      const lengths = manager.cachedLengths(0)!;
      for (let l = 0; l < L; l++) expect(lengths[l]).toBe(Math.min(policy.budget(l, L), LENGTH));
      expect(plan.layerLengths).toEqual(lengths);
      const table = manager.blockTable(0);
      expect(table.length).toBe(Math.ceil(Math.max(...lengths) / bs));
      expect(plan.freedBlocks).toBe(Math.ceil(LENGTH / bs) - table.length);
      // Every block was shared with the fork, so each kept block is a fresh copy.
      expect(manager.numFreeBlocks()).toBe(freeBefore - table.length);

      const keptKv = (l: number, extraK: number[][] = [], extraV: number[][] = []) => {
        const slice = (a: Float32Array, p: number, g: number): number[] =>
          Array.from(a.subarray(p * row + g * d, p * row + (g + 1) * d));
        return {
          keys: kept[l]!.map((pos, g) => [
            ...Array.from(pos, (p) => slice(denseK[l]!, p, g)),
            ...extraK.map((r) => r.slice(g * d, (g + 1) * d)),
          ]),
          values: kept[l]!.map((pos, g) => [
            ...Array.from(pos, (p) => slice(denseV[l]!, p, g)),
            ...extraV.map((r) => r.slice(g * d, (g + 1) * d)),
          ]),
        };
      };
      const q = rand.fillNormal(new Float32Array(H * d));
      for (let l = 0; l < L; l++) {
        const out = pagedAttention(
          storage,
          l,
          q,
          [{ blockTable: table, queryStart: lengths[l]! - 1, numQueries: 1 }],
          { numHeads: H },
        );
        const { keys, values } = keptKv(l);
        expectClose(out, denseOverKept(q, keys, values), 1e-5);
      }

      // Decoding continues: every layer grows by one token (written at its own length).
      const newK: number[][][] = Array.from({ length: L }, () => []);
      const newV: number[][][] = Array.from({ length: L }, () => []);
      for (let step = 0; step < 10; step++) {
        const { copies } = manager.appendTokens(0, [step]);
        storage.copyBlocks(copies);
        const now = manager.cachedLengths(0)!;
        for (let l = 0; l < L; l++) {
          const k = rand.fillNormal(new Float32Array(row));
          const v = rand.fillNormal(new Float32Array(row));
          storage.write(l, manager.blockTable(0), now[l]! - 1, k, v);
          newK[l]!.push(Array.from(k));
          newV[l]!.push(Array.from(v));
        }
      }
      manager.checkInvariants();
      const after = manager.cachedLengths(0)!;
      for (let l = 0; l < L; l++) {
        expect(after[l]).toBe(lengths[l]! + 10);
        const out = pagedAttention(
          storage,
          l,
          q,
          [{ blockTable: manager.blockTable(0), queryStart: after[l]! - 1, numQueries: 1 }],
          { numHeads: H },
        );
        const { keys, values } = keptKv(l, newK[l], newV[l]);
        expectClose(out, denseOverKept(q, keys, values), 1e-5);
      }

      // The fork still reads its full, uncompacted cache.
      expect(manager.cachedLengths(1)).toBeUndefined();
      for (let l = 0; l < L; l++) {
        const out = pagedAttention(
          storage,
          l,
          q,
          [{ blockTable: manager.blockTable(1), queryStart: LENGTH - 1, numQueries: 1 }],
          { numHeads: H },
        );
        const all = Int32Array.from({ length: LENGTH }, (_, p) => p);
        const saved = kept[l];
        kept[l] = [all, all];
        const { keys, values } = keptKv(l);
        kept[l] = saved!;
        expectClose(out, denseOverKept(q, keys, values), 1e-5);
      }
      manager.free(0);
      manager.free(1);
      manager.checkInvariants();
      expect(manager.numFreeBlocks()).toBe(64);
    });
  }

  it('compacting a sequence alone reuses its blocks in place and frees the rest', () => {
    const manager = new BlockManager({
      numBlocks: 16,
      blockSize: 8,
      watermark: 0,
      enablePrefixCaching: false,
      debug: true,
    });
    manager.addSequence(
      0,
      Array.from({ length: 40 }, (_, i) => i),
    );
    const before = manager.blockTable(0);
    const plan = manager.compact(0, [
      Int32Array.from([0, 1, 2, 3, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39]),
    ]);
    expect(plan.blockTable).toEqual(before.slice(0, 2));
    expect(plan.freedBlocks).toBe(3);
    expect(manager.numFreeBlocks()).toBe(14);
  });

  it('rejects bad kept positions', () => {
    const manager = new BlockManager({ numBlocks: 16, blockSize: 8, watermark: 0 });
    manager.addSequence(
      0,
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect(() => manager.compact(0, [Int32Array.from([3, 2])])).toThrow(
      /@plexus\/kv-cache\/block-manager: compact: layer 0 head 0 position 2 at index 1; expected strictly ascending positions in \[0, 20\)/,
    );
    expect(() => manager.compact(0, [Int32Array.from([20])])).toThrow(/in \[0, 20\)/);
    expect(() => manager.compact(0, [[Int32Array.from([1]), Int32Array.from([1, 2])]])).toThrow(
      /expected equal counts per layer/,
    );
    expect(() => manager.compact(0, [new Int32Array(0)])).toThrow(/expected at least one/);
    manager.compact(0, [Int32Array.from([0, 5]), Int32Array.from([1, 2, 3])]);
    expect(() => manager.compact(0, [Int32Array.from([0])])).toThrow(
      /expected 2 \(its layer count\)/,
    );
    expect(() => manager.compact(0, [Int32Array.from([0]), Int32Array.from([2, 3])])).toThrow(
      /in \[0, 3\)/,
    );
    const storage = new PagedKvStorage({
      numLayers: 3,
      numBlocks: 16,
      blockSize: 8,
      numKvHeads: 2,
      headDim: 4,
    });
    const plan = manager.compact(0, [Int32Array.from([0]), Int32Array.from([0])]);
    expect(() => storage.compact(plan)).toThrow(
      /@plexus\/kv-cache\/storage: the plan has 2 layers; expected the store's 3/,
    );
  });
});
