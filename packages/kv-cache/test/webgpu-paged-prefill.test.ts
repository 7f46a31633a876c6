import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { PagedKvStorage, pagedAttention, pagedPrefillAttentionWebGpu } from '../src/index.js';
import { collectGarbage, denseCausal64, maxAbsDiff, webGpuSkipReason } from './webgpu-setup.js';

const skipReason = await webGpuSkipReason('webgpu paged prefill tests');

interface Config {
  readonly blockSize: number;
  readonly numKvHeads: number;
  readonly group: number;
  readonly headDim: number;
  /** Per sequence: tokens already cached before the chunk, and the chunk's length. */
  readonly chunks: readonly (readonly [number, number])[];
}

/**
 * Random K/V written through shuffled block tables (unused blocks hold
 * garbage), then one prefill chunk per sequence on webgpu against host
 * `pagedAttention` and dense float64 causal attention.
 */
async function check(c: Config, seed: number): Promise<void> {
  const rand = new SeededRandom(seed);
  const { blockSize, numKvHeads: kvH, headDim: d } = c;
  const H = kvH * c.group;
  const lengths = c.chunks.map(([start, n]) => start + n);
  const perSeq = lengths.map((len) => Math.ceil(len / blockSize));
  const maxBlocks = Math.max(...perSeq);
  const numBlocks = perSeq.reduce((a, b) => a + b, 0) + 3;
  const storage = new PagedKvStorage({
    numLayers: 1,
    numBlocks,
    blockSize,
    numKvHeads: kvH,
    headDim: d,
  });
  rand.fillNormal(storage.keys[0]!);
  rand.fillNormal(storage.values[0]!);
  const order = Array.from({ length: numBlocks }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rand.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const tables = perSeq.map((n) => order.splice(0, n));
  const row = kvH * d;
  const dense = lengths.map((len, s) => {
    const k = rand.fillNormal(new Float32Array(len * row));
    const v = rand.fillNormal(new Float32Array(len * row));
    storage.write(0, tables[s]!, 0, k, v);
    return { k, v };
  });
  const totalQ = c.chunks.reduce((a, [, n]) => a + n, 0);
  const q = rand.fillNormal(new Float32Array(totalQ * H * d));
  const chunks = c.chunks.map(([queryStart, numQueries]) => ({ queryStart, numQueries }));
  const host = pagedAttention(
    storage,
    0,
    q,
    chunks.map((ch, s) => ({ ...ch, blockTable: tables[s]! })),
    { numHeads: H },
  );
  const padded = new Int32Array(c.chunks.length * maxBlocks).fill(-1);
  for (const [s, t] of tables.entries()) padded.set(t, s * maxBlocks);

  const before = tf.memory().numTensors;
  const kT = tf.tensor1d(storage.keys[0]!);
  const vT = tf.tensor1d(storage.values[0]!);
  const tableT = tf.tensor2d(padded, [c.chunks.length, maxBlocks], 'int32');
  const qT = tf.tensor3d(q, [totalQ, H, d]);
  const out = pagedPrefillAttentionWebGpu(kT, vT, tableT, chunks, qT, {
    blockSize,
    numKvHeads: kvH,
  });
  expect(out.shape).toEqual([totalQ, H, d]);
  const got = (await out.data()) as Float32Array;
  tf.dispose([out, kT, vT, tableT, qT]);
  expect(tf.memory().numTensors).toBe(before);

  expect(maxAbsDiff(got, host)).toBeLessThan(1e-4);
  let qRow = 0;
  c.chunks.forEach(([start, n], s) => {
    const ref = denseCausal64(
      q.subarray(qRow * H * d, (qRow + n) * H * d),
      dense[s]!.k,
      dense[s]!.v,
      start,
      n,
      H,
      kvH,
      d,
    );
    expect(maxAbsDiff(got.subarray(qRow * H * d, (qRow + n) * H * d), ref)).toBeLessThan(1e-4);
    qRow += n;
  });
}

describe.skipIf(skipReason !== undefined)('paged chunked prefill attention on webgpu', () => {
  afterEach(collectGarbage);

  // GQA 1/2/4/MQA; block sizes 4, 8, 16; whole prompts (start 0), later
  // chunks (start > 0, not block-aligned), single-query chunks (decode),
  // chunks longer than one query tile and ragged over the batch; head dims
  // below and above the workgroup size and one that shrinks the query tile.
  const configs: Config[] = [
    {
      blockSize: 4,
      numKvHeads: 2,
      group: 1,
      headDim: 8,
      chunks: [
        [0, 7],
        [0, 1],
        [0, 16],
      ],
    },
    {
      blockSize: 8,
      numKvHeads: 2,
      group: 2,
      headDim: 16,
      chunks: [
        [13, 20],
        [0, 40],
        [5, 1],
      ],
    },
    {
      blockSize: 4,
      numKvHeads: 1,
      group: 4,
      headDim: 8,
      chunks: [
        [30, 3],
        [0, 33],
      ],
    },
    {
      blockSize: 8,
      numKvHeads: 2,
      group: 4,
      headDim: 72,
      chunks: [
        [9, 18],
        [64, 7],
      ],
    },
    {
      blockSize: 16,
      numKvHeads: 3,
      group: 2,
      headDim: 4,
      chunks: [
        [1, 2],
        [0, 50],
        [17, 17],
        [0, 1],
      ],
    },
    {
      blockSize: 8,
      numKvHeads: 1,
      group: 2,
      headDim: 136,
      chunks: [
        [3, 12],
        [0, 9],
      ],
    },
  ];
  configs.forEach((c, i) => {
    it(`config ${i}: block ${c.blockSize}, GQA ${c.group}, headDim ${c.headDim}, chunks ${c.chunks.map((x) => x.join('+')).join('/')}`, async () => {
      await check(c, 200 + i);
    });
  });

  it('rejects bad chunks and shapes', () => {
    const q = tf.zeros([3, 2, 4]) as tf.Tensor3D;
    const kv = tf.zeros([32]);
    const table = tf.tensor2d([[0, 1]], [1, 2], 'int32');
    const opts = { blockSize: 4, numKvHeads: 1 };
    expect(() =>
      pagedPrefillAttentionWebGpu(kv, kv, table, [{ queryStart: 0, numQueries: 2 }], q, opts),
    ).toThrow(/@plexus\/kv-cache\/webgpu: q has 3 query rows; expected the chunks' total 2/);
    expect(() =>
      pagedPrefillAttentionWebGpu(kv, kv, table, [{ queryStart: 6, numQueries: 3 }], q, opts),
    ).toThrow(/expected at most maxBlocksPerSeq \* blockSize = 8/);
    expect(() =>
      pagedPrefillAttentionWebGpu(kv, kv, table, [{ queryStart: 0, numQueries: 0 }], q, opts),
    ).toThrow(/expected at least 1/);
    expect(() => pagedPrefillAttentionWebGpu(kv, kv, table, [], q, opts)).toThrow(
      /expected int32 \[0, >= 1\]/,
    );
    tf.dispose([q, kv, table]);
  });
});
