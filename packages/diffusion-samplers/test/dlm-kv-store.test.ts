// DlmKvStore keeps per-position K/V in @plexus/kv-cache blocks and gives
// them back in any order.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { DlmKvStore, PortableRng } from '../src/index.js';
import { cpuBackend } from './setup.js';

beforeAll(cpuBackend);

describe('DlmKvStore', () => {
  it('round-trips scattered positions across blocks, rows and layers', () => {
    const [B, L, layers, H, d] = [3, 21, 2, 2, 3];
    const store = new DlmKvStore({
      batch: B,
      length: L,
      numLayers: layers,
      numKvHeads: H,
      headDim: d,
      blockSize: 8,
    });
    const rng = new PortableRng(4);
    const positions = [0, 5, 7, 8, 15, 16, 20];
    const k = Array.from({ length: layers }, () =>
      Float32Array.from(rng.normals(B * positions.length * H * d)),
    );
    const v = Array.from({ length: layers }, () =>
      Float32Array.from(rng.normals(B * positions.length * H * d)),
    );
    const shape: [number, number, number, number] = [B, positions.length, H, d];
    const kv = {
      keys: k.map((a) => tf.tensor4d(a, shape)),
      values: v.map((a) => tf.tensor4d(a, shape)),
    };
    // Row 1 keeps only even positions.
    store.write(kv, positions, (b, p) => b !== 1 || p % 2 === 0);
    expect(store.isCached(0, 5)).toBe(true);
    expect(store.isCached(1, 5)).toBe(false);
    expect(store.isCached(1, 8)).toBe(true);
    expect(store.isCached(0, 1)).toBe(false);
    expect(store.cachedEverywhere()).toEqual([0, 8, 16, 20]);
    const want = [20, 0, 16];
    const back = store.gather(want);
    for (let l = 0; l < layers; l++) {
      const got = back.keys[l]!.arraySync();
      const gotV = back.values[l]!.arraySync();
      for (let b = 0; b < B; b++)
        want.forEach((p, i) => {
          const j = positions.indexOf(p);
          for (let h = 0; h < H; h++)
            for (let e = 0; e < d; e++) {
              const src = ((b * positions.length + j) * H + h) * d + e;
              expect(got[b]![i]![h]![e]).toBeCloseTo(k[l]![src]!, 6);
              expect(gotV[b]![i]![h]![e]).toBeCloseTo(v[l]![src]!, 6);
            }
        });
    }
    store.clear();
    expect(store.cachedEverywhere()).toEqual([]);
    tf.dispose([...kv.keys, ...kv.values, ...back.keys, ...back.values]);
    store.dispose();
  });
});
