import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BlockManager,
  denseAttention,
  dequantizeRow,
  type KvBits,
  pagedAttention,
  QuantizedKvStorage,
  qmaxOf,
  quantizeRow,
} from '../src/index.js';

// Stated bounds, measured on N(0, 1) K/V, 4 heads over 2 KV heads, dim 32,
// 100 tokens, group 32: int8 attention outputs stay within 0.02 of fp32,
// int4 within 0.25 (observed maxima: 0.0039 and 0.094).
const ATTENTION_BOUND: Record<KvBits, number> = { 8: 0.02, 4: 0.25 };

describe('group quantisation', () => {
  for (const bits of [8, 4] as const)
    for (const groupSize of [8, 16, 32]) {
      it(`int${bits}, group ${groupSize}: every value within max|x| / (2 qmax) of its group`, () => {
        const rand = new SeededRandom(bits * 100 + groupSize);
        const n = 256;
        const x = new Float32Array(n);
        for (let g = 0; g < n / groupSize; g++) {
          const magnitude = Math.exp(rand.normal() * 3); // groups of very different scales
          for (let i = 0; i < groupSize; i++) x[g * groupSize + i] = rand.normal() * magnitude;
        }
        x.fill(0, 0, groupSize); // an all-zero group must stay exactly zero
        const codes = bits === 8 ? new Int8Array(n) : new Uint8Array(n / 2);
        const scales = new Float32Array(n / groupSize);
        quantizeRow(bits, groupSize, x, 0, n, codes, 0, scales, 0);
        const back = new Float32Array(n);
        dequantizeRow(bits, groupSize, codes, 0, scales, 0, n, back, 0);
        for (let g = 0; g < n / groupSize; g++) {
          let maxAbs = 0;
          for (let i = 0; i < groupSize; i++)
            maxAbs = Math.max(maxAbs, Math.abs(x[g * groupSize + i]!));
          const bound = (maxAbs / (2 * qmaxOf(bits))) * (1 + 1e-5);
          for (let i = 0; i < groupSize; i++) {
            const at = g * groupSize + i;
            expect(Math.abs(back[at]! - x[at]!)).toBeLessThanOrEqual(bound);
          }
        }
        expect(Array.from(back.subarray(0, groupSize)).every((v) => v === 0)).toBe(true);
      });
    }

  it('rejects bad formats', () => {
    const layout = { numLayers: 1, numBlocks: 2, blockSize: 8, numKvHeads: 1, headDim: 12 };
    expect(() => new QuantizedKvStorage(layout, { bits: 5 as 8 })).toThrow(
      /^@plexus\/kv-cache\/quantize: bits is 5; expected 8 or 4/,
    );
    expect(() => new QuantizedKvStorage(layout, { bits: 8, groupSize: 5 })).toThrow(
      /groupSize is 5; expected a divisor of headDim \(12\)/,
    );
    expect(() => new QuantizedKvStorage(layout, { bits: 4, groupSize: 3 })).toThrow(
      /expected an even groupSize/,
    );
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`quantised paged attention on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const bits of [8, 4] as const) {
      it(`int${bits}: equals dense over the dequantised cache, and within the stated bound of fp32`, () => {
        const [H, kvH, d, bs, len] = [4, 2, 32, 16 as const, 100];
        const layout = { numLayers: 1, numBlocks: 16, blockSize: bs, numKvHeads: kvH, headDim: d };
        const manager = new BlockManager({
          numBlocks: 16,
          blockSize: bs,
          watermark: 0,
          numHostBlocks: 8,
        });
        const store = new QuantizedKvStorage(layout, { bits });
        const host = new QuantizedKvStorage({ ...layout, numBlocks: 8 }, { bits });
        const rand = new SeededRandom(bits);
        manager.addSequence(
          0,
          Array.from({ length: len }, (_, i) => i),
        );
        const k = rand.fillNormal(new Float32Array(len * kvH * d));
        const v = rand.fillNormal(new Float32Array(len * kvH * d));
        store.write(0, manager.blockTable(0), 0, k, v);
        // Swap out and back in: the codes and scales must survive the round trip.
        const before = store.readDense('k', 0, manager.blockTable(0), len);
        QuantizedKvStorage.runSwap(manager.swapOut([0]), store, host);
        QuantizedKvStorage.runSwap(manager.swapIn([0]), store, host);
        const table = manager.blockTable(0);
        expect(store.readDense('k', 0, table, len)).toEqual(before);
        const q = rand.fillNormal(new Float32Array(H * d));
        const got = pagedAttention(
          store,
          0,
          q,
          [{ blockTable: table, queryStart: len - 1, numQueries: 1 }],
          {
            numHeads: H,
          },
        );
        const run = (kk: Float32Array, vv: Float32Array): Float32Array =>
          tf.tidy(
            () =>
              denseAttention(
                tf.tensor3d(q, [1, H, d]),
                tf.tensor3d(kk, [len, kvH, d]),
                tf.tensor3d(vv, [len, kvH, d]),
                len - 1,
              ).dataSync() as Float32Array,
          );
        const deq = run(store.readDense('k', 0, table, len), store.readDense('v', 0, table, len));
        expectArraysClose(got, deq, 1e-4, 'dequantised');
        const exact = run(k, v);
        let maxErr = 0;
        for (let i = 0; i < got.length; i++)
          maxErr = Math.max(maxErr, Math.abs(got[i]! - exact[i]!));
        expect(maxErr).toBeLessThan(ATTENTION_BOUND[bits]);
        expect(maxErr).toBeGreaterThan(0);
      });
    }

    it('copy-on-write copies quantised slots', () => {
      const layout = { numLayers: 2, numBlocks: 4, blockSize: 8, numKvHeads: 1, headDim: 8 };
      const store = new QuantizedKvStorage(layout, { bits: 4, groupSize: 4 });
      const rand = new SeededRandom(9);
      store.write(
        1,
        [2],
        0,
        rand.fillNormal(new Float32Array(40)),
        rand.fillNormal(new Float32Array(40)),
      );
      store.copyBlocks([{ src: 2, dst: 3, numTokens: 5 }]);
      expect(store.readDense('v', 1, [3], 5)).toEqual(store.readDense('v', 1, [2], 5));
      expect(store.byteLength).toBe(2 * 2 * (4 * 8 * 8 * 0.5 + ((4 * 8 * 8) / 4) * 4));
    });
  });
}
