import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  denseAttention,
  PagedKvStorage,
  pagedAttention,
  pagedAttentionTensor,
} from '../src/index.js';
import { appendToken, buildFixture } from './kv-fixture.js';

function dense(
  q: Float32Array,
  k: Float32Array,
  v: Float32Array,
  nq: number,
  H: number,
  kvH: number,
  d: number,
  queryStart: number,
): Float32Array {
  return tf.tidy(() => {
    const nk = k.length / (kvH * d);
    const out = denseAttention(
      tf.tensor3d(q, [nq, H, d]),
      tf.tensor3d(k, [nk, kvH, d]),
      tf.tensor3d(v, [nk, kvH, d]),
      queryStart,
    );
    return out.dataSync() as Float32Array;
  });
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`paged attention on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
      expect(tf.getBackend()).toBe(backend);
    });

    for (const [blockSize, H, kvH, d] of [
      [8, 4, 4, 16],
      [16, 8, 2, 32],
      [32, 4, 1, 8],
    ] as const) {
      it(`decode equals dense (block ${blockSize}, ${H} heads, ${kvH} KV heads, dim ${d})`, () => {
        const f = buildFixture(
          { numLayers: 2, blockSize, numKvHeads: kvH, headDim: d },
          [1, 9, 37, 64],
          7,
        );
        // A fork whose last block diverges by copy-on-write.
        f.manager.fork(2, 4);
        const child = { id: 4, k: f.seqs[2]!.k.slice(), v: f.seqs[2]!.v.slice(), length: 37 };
        f.seqs.push(child);
        appendToken(f, child, 1);
        appendToken(f, f.seqs[2]!, 2);
        const rand = new SeededRandom(3);
        for (let layer = 0; layer < 2; layer++) {
          const q = rand.fillNormal(new Float32Array(f.seqs.length * H * d));
          const queries = f.seqs.map((s) => ({
            blockTable: f.manager.blockTable(s.id),
            queryStart: s.length - 1,
            numQueries: 1,
          }));
          const out = pagedAttention(f.storage, layer, q, queries, { numHeads: H });
          f.seqs.forEach((s, i) => {
            const qi = q.subarray(i * H * d, (i + 1) * H * d);
            const want = dense(qi, s.k[layer]!, s.v[layer]!, 1, H, kvH, d, s.length - 1);
            expectArraysClose(out.subarray(i * H * d, (i + 1) * H * d), want, 1e-4, `seq ${s.id}`);
          });
        }
      });
    }

    it('chunked causal prefill equals dense prefill', () => {
      const [H, kvH, d, len] = [6, 3, 16, 45];
      const storage = new PagedKvStorage({
        numLayers: 1,
        numBlocks: 8,
        blockSize: 8,
        numKvHeads: kvH,
        headDim: d,
      });
      const table = [5, 2, 7, 0, 3, 1]; // deliberately scattered blocks
      const rand = new SeededRandom(11);
      const k = rand.fillNormal(new Float32Array(len * kvH * d));
      const v = rand.fillNormal(new Float32Array(len * kvH * d));
      const q = rand.fillNormal(new Float32Array(len * H * d));
      const got = new Float32Array(len * H * d);
      const row = kvH * d;
      for (let start = 0; start < len; start += 13) {
        const n = Math.min(13, len - start);
        storage.write(
          0,
          table,
          start,
          k.slice(start * row, (start + n) * row),
          v.slice(start * row, (start + n) * row),
        );
        const chunk = q.subarray(start * H * d, (start + n) * H * d);
        got.set(
          pagedAttention(
            storage,
            0,
            chunk,
            [{ blockTable: table, queryStart: start, numQueries: n }],
            {
              numHeads: H,
            },
          ),
          start * H * d,
        );
      }
      expectArraysClose(got, dense(q, k, v, len, H, kvH, d, 0), 1e-4, 'prefill');
    });

    it('tensor wrapper matches and leaks no tensors', () => {
      const f = buildFixture(
        { numLayers: 1, blockSize: 16, numKvHeads: 2, headDim: 8 },
        [20, 33],
        5,
      );
      const queries = f.seqs.map((s) => ({
        blockTable: f.manager.blockTable(s.id),
        queryStart: s.length - 1,
        numQueries: 1,
      }));
      const q = tf.randomNormal([2, 4, 8], 0, 1, 'float32', 1) as tf.Tensor3D;
      const before = tf.memory().numTensors;
      for (let i = 0; i < 5; i++) {
        const out = pagedAttentionTensor(f.storage, 0, q, queries, { numHeads: 4 });
        expect(out.shape).toEqual([2, 4, 8]);
        const host = pagedAttention(f.storage, 0, q.dataSync() as Float32Array, queries, {
          numHeads: 4,
        });
        expectArraysClose(out.dataSync(), host, 1e-6, 'wrapper');
        out.dispose();
        dense(
          q.dataSync().slice(0, 32) as Float32Array,
          f.seqs[0]!.k[0]!,
          f.seqs[0]!.v[0]!,
          1,
          4,
          2,
          8,
          19,
        );
      }
      expect(tf.memory().numTensors).toBe(before);
      q.dispose();
    });
  });
}

describe('paged attention errors', () => {
  const storage = new PagedKvStorage({
    numLayers: 1,
    numBlocks: 4,
    blockSize: 8,
    numKvHeads: 2,
    headDim: 4,
  });
  const q = new Float32Array(4 * 4);
  it('rejects bad heads, layers, tables and q sizes', () => {
    const ok = [{ blockTable: [0], queryStart: 0, numQueries: 1 }];
    expect(() => pagedAttention(storage, 0, q, ok, { numHeads: 3 })).toThrow(
      /^@plexus\/kv-cache\/attention: numHeads is 3; expected a positive multiple of numKvHeads/,
    );
    expect(() => pagedAttention(storage, 1, q, ok, { numHeads: 4 })).toThrow(
      /layer 1 is out of range/,
    );
    expect(() =>
      pagedAttention(storage, 0, q, [{ blockTable: [0], queryStart: 8, numQueries: 1 }], {
        numHeads: 4,
      }),
    ).toThrow(/block table has 1 blocks; expected at least 2/);
    expect(() =>
      pagedAttention(storage, 0, q, [{ blockTable: [9], queryStart: 0, numQueries: 1 }], {
        numHeads: 4,
      }),
    ).toThrow(/names block 9/);
    expect(() => pagedAttention(storage, 0, new Float32Array(3), ok, { numHeads: 4 })).toThrow(
      /q has 3 values/,
    );
  });
  it('rejects bad writes', () => {
    expect(() => storage.write(0, [0], 0, new Float32Array(5), new Float32Array(5))).toThrow(
      /^@plexus\/kv-cache\/storage: K\/V data has 5 values/,
    );
    expect(() => storage.write(0, [0], 6, new Float32Array(24), new Float32Array(24))).toThrow(
      /block table has 1 blocks; expected at least 2/,
    );
    expect(() => storage.copyBlocks([{ src: 0, dst: 4, numTokens: 1 }])).toThrow(
      /block 4 is out of range/,
    );
    expect(
      () =>
        new PagedKvStorage({ numLayers: 1, numBlocks: 0, blockSize: 8, numKvHeads: 1, headDim: 4 }),
    ).toThrow(/numBlocks is 0/);
  });
});
