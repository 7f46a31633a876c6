import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BlockManager,
  PagedKvStorage,
  pagedAttention,
  pagedAttentionTensor,
  slotMapping,
  WebGpuKvStorage,
} from '../src/index.js';
import { collectGarbage, maxAbsDiff, webGpuSkipReason } from './webgpu-setup.js';

const skipReason = await webGpuSkipReason('webgpu resident KV storage tests');

const layout = { numLayers: 2, numBlocks: 40, blockSize: 8, numKvHeads: 2, headDim: 16 };
const H = 4;
const row = layout.numKvHeads * layout.headDim;

/** Count reads of tensor data back to the host while `fn` runs. */
async function countReads<T>(fn: () => T): Promise<{ result: T; reads: number }> {
  const backend = tf.backend() as unknown as Record<string, (...a: unknown[]) => unknown>;
  let reads = 0;
  const saved = { read: backend.read!, readSync: backend.readSync! };
  backend.read = (...a) => {
    reads++;
    return saved.read.apply(backend, a);
  };
  backend.readSync = (...a) => {
    reads++;
    return saved.readSync.apply(backend, a);
  };
  try {
    return { result: fn(), reads };
  } finally {
    backend.read = saved.read;
    backend.readSync = saved.readSync;
  }
}

describe.skipIf(skipReason !== undefined)('KV cache resident on webgpu', () => {
  afterEach(collectGarbage);

  it('an engine loop (prefill, fork, copy-on-write, batched decode) equals the host path, with no read-back per step', async () => {
    const rand = new SeededRandom(7);
    const before = tf.memory().numTensors;
    const manager = new BlockManager({
      numBlocks: layout.numBlocks,
      blockSize: 8,
      watermark: 0,
      debug: true,
    });
    const host = new PagedKvStorage(layout);
    const device = new WebGpuKvStorage(layout);
    const lengths = [5, 13, 20];
    // Prefill: each prompt's K/V written on both, then chunked-prefill attention.
    for (const [id, len] of lengths.entries()) {
      const { blockTable } = manager.addSequence(
        id,
        Array.from({ length: len }, (_, i) => 100 * id + i),
      );
      for (let l = 0; l < layout.numLayers; l++) {
        const k = rand.fillNormal(new Float32Array(len * row));
        const v = rand.fillNormal(new Float32Array(len * row));
        host.write(l, blockTable, 0, k, v);
        const [kT, vT] = [tf.tensor1d(k), tf.tensor1d(v)];
        device.write(l, blockTable, 0, kT, vT);
        tf.dispose([kT, vT]);
      }
    }
    const prefillQueries = lengths.map((len, id) => ({
      blockTable: manager.blockTable(id),
      queryStart: 0,
      numQueries: len,
    }));
    const qAll = rand.fillNormal(new Float32Array(38 * H * layout.headDim));
    const qT = tf.tensor3d(qAll, [38, H, layout.headDim]);
    for (let l = 0; l < layout.numLayers; l++) {
      const out = pagedAttentionTensor(device, l, qT, prefillQueries, { numHeads: H });
      const want = pagedAttention(host, l, qAll, prefillQueries, { numHeads: H });
      expect(maxAbsDiff(await out.data(), want)).toBeLessThan(1e-4);
      out.dispose();
    }
    qT.dispose();

    manager.fork(1, 3); // sequence 3 shares 1's partly filled last block: copy-on-write on append
    const ids = [0, 1, 2, 3];
    for (let step = 0; step < 12; step++) {
      const runs = ids.map((id) => {
        const { copies } = manager.appendTokens(id, [step]);
        host.copyBlocks(copies);
        device.copyBlocks(copies);
        const len = manager.tokens(id).length;
        return { table: manager.blockTable(id), startPos: len - 1, numTokens: 1 };
      });
      const slots = slotMapping(layout.blockSize, runs);
      const queries = runs.map((r) => ({
        blockTable: r.table,
        queryStart: r.startPos,
        numQueries: 1,
      }));
      const q = rand.fillNormal(new Float32Array(ids.length * H * layout.headDim));
      for (let l = 0; l < layout.numLayers; l++) {
        const k = rand.fillNormal(new Float32Array(ids.length * row));
        const v = rand.fillNormal(new Float32Array(ids.length * row));
        runs.forEach((r, i) => {
          host.write(
            l,
            r.table,
            r.startPos,
            k.subarray(i * row, (i + 1) * row),
            v.subarray(i * row, (i + 1) * row),
          );
        });
        // Projections and queries already live on the device in an engine.
        const kT = tf.tensor2d(k, [ids.length, row]);
        const vT = tf.tensor2d(v, [ids.length, row]);
        const qD = tf.tensor3d(q, [ids.length, H, layout.headDim]);
        const { result: out, reads } = await countReads(() => {
          device.writeSlots(l, slots, kT, vT);
          return pagedAttentionTensor(device, l, qD, queries, { numHeads: H });
        });
        expect(reads).toBe(0);
        const want = pagedAttention(host, l, q, queries, { numHeads: H });
        expect(maxAbsDiff(await out.data(), want)).toBeLessThan(1e-4);
        tf.dispose([out, kT, vT, qD]);
      }
    }
    expect(manager.stats().cowCopies).toBeGreaterThan(0);
    for (let l = 0; l < layout.numLayers; l++) {
      const got = await device.read(l);
      expect(got.keys).toEqual(host.keys[l]);
      expect(got.values).toEqual(host.values[l]);
    }
    device.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('swap out and in through a host pool equals the host swap', async () => {
    const rand = new SeededRandom(8);
    const host = new PagedKvStorage(layout);
    for (let l = 0; l < layout.numLayers; l++) {
      rand.fillNormal(host.keys[l]!);
      rand.fillNormal(host.values[l]!);
    }
    const device = new WebGpuKvStorage(layout);
    device.upload(host);
    const hostPoolA = new PagedKvStorage({ ...layout, numBlocks: 6 });
    const hostPoolB = new PagedKvStorage({ ...layout, numBlocks: 6 });
    const out = {
      direction: 'out' as const,
      copies: [
        { src: 3, dst: 0 },
        { src: 17, dst: 5 },
        { src: 39, dst: 2 },
      ],
    };
    await WebGpuKvStorage.runSwap(out, device, hostPoolA);
    PagedKvStorage.runSwap(out, host, hostPoolB);
    expect(hostPoolA.keys).toEqual(hostPoolB.keys);
    expect(hostPoolA.values).toEqual(hostPoolB.values);
    const back = {
      direction: 'in' as const,
      copies: [
        { src: 0, dst: 10 },
        { src: 5, dst: 11 },
        { src: 2, dst: 1 },
      ],
    };
    await WebGpuKvStorage.runSwap(back, device, hostPoolA);
    PagedKvStorage.runSwap(back, host, hostPoolB);
    for (let l = 0; l < layout.numLayers; l++) {
      const got = await device.read(l);
      expect(got.keys).toEqual(host.keys[l]);
      expect(got.values).toEqual(host.values[l]);
    }
    device.dispose();
  });

  it('moveRows reads every source before writing (in-place compaction)', async () => {
    const rand = new SeededRandom(9);
    const host = new PagedKvStorage({ ...layout, numLayers: 1 });
    rand.fillNormal(host.keys[0]!);
    rand.fillNormal(host.values[0]!);
    const device = new WebGpuKvStorage(host.layout);
    device.upload(host);
    // Row r <- row r + 1 (each source is another move's destination) and a backward move.
    const src = [1, 2, 3, 4, 0];
    const dst = [0, 1, 2, 3, 9];
    device.moveRows(0, src, dst);
    const d = layout.headDim;
    const wantK = host.keys[0]!.slice();
    const wantV = host.values[0]!.slice();
    src.forEach((s, i) => {
      wantK.set(host.keys[0]!.subarray(s * d, (s + 1) * d), dst[i]! * d);
      wantV.set(host.values[0]!.subarray(s * d, (s + 1) * d), dst[i]! * d);
    });
    const got = await device.read(0);
    expect(got.keys).toEqual(wantK);
    expect(got.values).toEqual(wantV);
    device.dispose();
  });

  it('compaction on the device equals the host compaction, and attention over it the host attention', async () => {
    const rand = new SeededRandom(10);
    const manager = new BlockManager({
      numBlocks: layout.numBlocks,
      blockSize: 8,
      watermark: 0,
      debug: true,
    });
    const host = new PagedKvStorage(layout);
    const len = 37;
    const { blockTable } = manager.addSequence(
      0,
      Array.from({ length: len }, (_, i) => i),
    );
    for (let l = 0; l < layout.numLayers; l++)
      host.write(
        l,
        blockTable,
        0,
        rand.fillNormal(new Float32Array(len * row)),
        rand.fillNormal(new Float32Array(len * row)),
      );
    const device = new WebGpuKvStorage(layout);
    device.upload(host);
    manager.fork(0, 1);
    manager.appendTokens(1, [1]); // the fork's copy-on-write: 0's blocks stay shared but one
    const pick = (n: number): Int32Array => {
      const all = Array.from({ length: len }, (_, p) => p);
      for (let i = all.length - 1; i > 0; i--) {
        const j = rand.int(i + 1);
        [all[i], all[j]] = [all[j]!, all[i]!];
      }
      return Int32Array.from(all.slice(0, n)).sort();
    };
    // Layer 0: one choice for both heads; layer 1: a choice per head.
    const plan = manager.compact(0, [pick(20), [pick(11), pick(11)]]);
    host.compact(plan);
    device.compact(plan);
    for (let l = 0; l < layout.numLayers; l++) {
      const got = await device.read(l);
      expect(got.keys).toEqual(host.keys[l]);
      expect(got.values).toEqual(host.values[l]);
    }
    const q = rand.fillNormal(new Float32Array(H * layout.headDim));
    const qT = tf.tensor3d(q, [1, H, layout.headDim]);
    const lengths = manager.cachedLengths(0)!;
    for (let l = 0; l < layout.numLayers; l++) {
      const queries = [
        { blockTable: manager.blockTable(0), queryStart: lengths[l]! - 1, numQueries: 1 },
      ];
      const out = pagedAttentionTensor(device, l, qT, queries, { numHeads: H });
      expect(
        maxAbsDiff(await out.data(), pagedAttention(host, l, q, queries, { numHeads: H })),
      ).toBeLessThan(1e-4);
      out.dispose();
    }
    qT.dispose();
    device.dispose();
  });

  it('the README webgpu example runs', async () => {
    const before = tf.memory().numTensors;
    // --- README webgpu example (keep in sync) ---
    const manager = new BlockManager({ numBlocks: 64, blockSize: 16 });
    const kv = new WebGpuKvStorage({
      numLayers: 1,
      numBlocks: 64,
      blockSize: 16,
      numKvHeads: 2,
      headDim: 8,
    });
    const { blockTable } = manager.addSequence(1, [101, 102, 103, 104, 105]);
    tf.tidy(() => kv.write(0, blockTable, 0, tf.fill([5, 2, 8], 0.1), tf.fill([5, 2, 8], 1)));
    // A decode step: the new token's K/V go into its slot in place, attention reads the pool.
    const { copies } = manager.appendTokens(1, [106]);
    kv.copyBlocks(copies);
    const table = manager.blockTable(1);
    const slots = slotMapping(16, [{ table, startPos: 5, numTokens: 1 }]);
    const out = tf.tidy(() => {
      kv.writeSlots(0, slots, tf.fill([1, 2, 8], 0.1), tf.fill([1, 2, 8], 1));
      const q = tf.ones([1, 4, 8]) as tf.Tensor3D; // 4 heads over 2 KV heads
      return pagedAttentionTensor(kv, 0, q, [{ blockTable: table, queryStart: 5, numQueries: 1 }], {
        numHeads: 4,
      });
    });
    // --- end ---
    expect(Array.from(await out.data()).every((v) => Math.abs(v - 1) < 1e-6)).toBe(true);
    out.dispose();
    kv.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad input', () => {
    const device = new WebGpuKvStorage(layout);
    const k = tf.zeros([row]);
    expect(() => device.writeSlots(0, [layout.numBlocks * 8], k, k)).toThrow(
      /@plexus\/kv-cache\/webgpu-storage: slot 320 is out of range/,
    );
    expect(() => device.writeSlots(0, [0, 1], k, k)).toThrow(
      /expected float32 with 2 \* numKvHeads/,
    );
    expect(() => device.write(2, [0], 0, k, k)).toThrow(/layer 2 is out of range/);
    expect(() => device.copyBlocks([{ src: 0, dst: 40, numTokens: 1 }])).toThrow(
      /block 40 is out of range/,
    );
    expect(() => device.upload(new PagedKvStorage({ ...layout, headDim: 8 }))).toThrow(
      /expected equal layouts/,
    );
    device.dispose();
    expect(() => device.keys(0)).toThrow(/disposed/);
    k.dispose();
  });
});
