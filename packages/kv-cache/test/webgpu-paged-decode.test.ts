import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PagedKvStorage, pagedAttention, pagedDecodeAttentionWebGpu } from '../src/index.js';
import { collectGarbage, webGpuSkipReason } from './webgpu-setup.js';

// Probe for an adapter once, before the suite is declared: without one (no
// GPU and no lavapipe) the suite is skipped, saying why.
const skipReason = await webGpuSkipReason('webgpu paged decode tests');

interface Config {
  readonly blockSize: number;
  readonly numKvHeads: number;
  readonly group: number;
  readonly headDim: number;
  readonly lengths: readonly number[];
}

/** Dense float64 decode attention of one sequence's last token (the reference). */
function denseDecode(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  len: number,
  H: number,
  kvH: number,
  d: number,
): Float64Array {
  const out = new Float64Array(H * d);
  const scale = 1 / Math.sqrt(d);
  for (let h = 0; h < H; h++) {
    const g = Math.floor(h / (H / kvH));
    const scores = Array.from({ length: len }, (_, t) => {
      let dot = 0;
      for (let i = 0; i < d; i++) dot += q[h * d + i]! * k[(t * kvH + g) * d + i]!;
      return dot * scale;
    });
    const max = Math.max(...scores);
    const w = scores.map((s) => Math.exp(s - max));
    const sum = w.reduce((a, b) => a + b, 0);
    for (let t = 0; t < len; t++)
      for (let i = 0; i < d; i++) out[h * d + i]! += (w[t]! / sum) * v[(t * kvH + g) * d + i]!;
  }
  return out;
}

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++)
    worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!));
  expect(worst).toBeLessThan(tol);
}

/**
 * Fill a paged store with random K/V through shuffled block tables (so
 * logical and physical order differ and unused blocks hold garbage), run the
 * webgpu kernel and compare with host `pagedAttention` and a dense reference.
 */
async function check(c: Config, seed: number): Promise<void> {
  const rand = new SeededRandom(seed);
  const { blockSize, numKvHeads: kvH, headDim: d } = c;
  const H = kvH * c.group;
  const S = c.lengths.length;
  const perSeq = c.lengths.map((len) => Math.ceil(len / blockSize));
  const maxBlocks = Math.max(...perSeq);
  const numBlocks = perSeq.reduce((a, b) => a + b, 0) + 3;
  const storage = new PagedKvStorage({
    numLayers: 2,
    numBlocks,
    blockSize,
    numKvHeads: kvH,
    headDim: d,
  });
  for (let l = 0; l < 2; l++) {
    rand.fillNormal(storage.keys[l]!);
    rand.fillNormal(storage.values[l]!);
  }
  const free = Array.from({ length: numBlocks }, (_, i) => i);
  for (let i = free.length - 1; i > 0; i--) {
    const j = rand.int(i + 1);
    [free[i], free[j]] = [free[j]!, free[i]!];
  }
  const tables = perSeq.map((n) => free.splice(0, n));
  const layer = 1;
  const row = kvH * d;
  const denseKv = c.lengths.map((len, s) => {
    const k = rand.fillNormal(new Float32Array(len * row));
    const v = rand.fillNormal(new Float32Array(len * row));
    storage.write(layer, tables[s]!, 0, k, v);
    return { k, v };
  });
  const q = rand.fillNormal(new Float32Array(S * H * d));

  const host = pagedAttention(
    storage,
    layer,
    q,
    c.lengths.map((len, s) => ({ blockTable: tables[s]!, queryStart: len - 1, numQueries: 1 })),
    { numHeads: H },
  );
  const padded = new Int32Array(S * maxBlocks).fill(-1);
  for (const [s, t] of tables.entries()) padded.set(t, s * maxBlocks);

  const before = tf.memory().numTensors;
  const inputs = [
    tf.tensor1d(storage.keys[layer]!),
    tf.tensor1d(storage.values[layer]!),
    tf.tensor2d(padded, [S, maxBlocks], 'int32'),
    tf.tensor1d(Int32Array.from(c.lengths), 'int32'),
    tf.tensor3d(q, [S, H, d]),
  ] as const;
  const out = pagedDecodeAttentionWebGpu(...inputs, { blockSize, numKvHeads: kvH });
  expect(out.shape).toEqual([S, H, d]);
  const got = (await out.data()) as Float32Array;
  out.dispose();
  for (const t of inputs) t.dispose();
  expect(tf.memory().numTensors).toBe(before);

  expectClose(got, host, 1e-4);
  c.lengths.forEach((len, s) => {
    const ref = denseDecode(
      q.subarray(s * H * d, (s + 1) * H * d),
      denseKv[s]!.k,
      denseKv[s]!.v,
      len,
      H,
      kvH,
      d,
    );
    expectClose(got.subarray(s * H * d, (s + 1) * H * d), ref, 1e-4);
  });
}

describe.skipIf(skipReason !== undefined)('paged decode attention on webgpu', () => {
  beforeAll(async () => {
    if (tf.getBackend() !== 'webgpu')
      await initBackend({ backend: 'webgpu', allowSoftwareAdapter: true });
  });
  afterEach(collectGarbage);

  // GQA ratios 1, 2, 4; block sizes 4 and 8; ragged lengths with a single
  // token, exactly full blocks, partially filled last blocks and contexts
  // longer than one 32-token tile; head dims below and above the workgroup.
  const configs: Config[] = [
    { blockSize: 4, numKvHeads: 2, group: 1, headDim: 8, lengths: [1, 4, 7] },
    { blockSize: 8, numKvHeads: 2, group: 2, headDim: 16, lengths: [13, 1, 8, 40] },
    { blockSize: 4, numKvHeads: 1, group: 4, headDim: 8, lengths: [5, 33, 1] },
    { blockSize: 8, numKvHeads: 2, group: 4, headDim: 40, lengths: [70, 3] },
    { blockSize: 4, numKvHeads: 3, group: 2, headDim: 4, lengths: [2, 9, 1, 16, 23] },
  ];
  configs.forEach((c, i) => {
    it(`config ${i}: block ${c.blockSize}, GQA ${c.group}, headDim ${c.headDim}, lengths ${c.lengths.join('/')}`, async () => {
      await check(c, 100 + i);
    });
  });

  it('rejects bad shapes', async () => {
    const q = tf.zeros([1, 3, 4]) as tf.Tensor3D;
    const kv = tf.zeros([32]);
    const table = tf.tensor2d([[0]], [1, 1], 'int32');
    const lens = tf.tensor1d([1], 'int32');
    expect(() =>
      pagedDecodeAttentionWebGpu(kv, kv, table, lens, q, { blockSize: 4, numKvHeads: 2 }),
    ).toThrow(/multiple of numKvHeads/);
    expect(() =>
      pagedDecodeAttentionWebGpu(kv, kv, table, lens, q, { blockSize: 5, numKvHeads: 1 }),
    ).toThrow(/multiples of blockSize/);
    tf.dispose([q, kv, table, lens]);
  });
});
