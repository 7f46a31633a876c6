import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../backend/init-backend.js';
import { randomNormalTensor, SeededRandom } from '../random.js';
import { defaultSplitK, matMulTransposeASplitK, tallMatMul } from './tall-matmul.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const random = (rows: number, cols: number, seed: number) =>
  randomNormalTensor([rows, cols], new SeededRandom(seed)) as tf.Tensor2D;

/** Plain-JS aᵀ·b in float64, the independent reference. */
function referenceATB(
  a: Float32Array,
  b: Float32Array,
  k: number,
  m: number,
  n: number,
): Float64Array {
  const out = new Float64Array(m * n);
  for (let r = 0; r < k; r++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) out[i * n + j]! += a[r * m + i]! * b[r * n + j]!;
  return out;
}

describe('split-K products', () => {
  for (const [k, m, n, splits] of [
    [1000, 5, 3, 7], // rows not a multiple of the slabs: padded
    [1024, 8, 8, 16],
    [3, 2, 2, 5], // more slabs than rows
    [513, 1, 4, 1],
  ] as const) {
    it(`aᵀ·b for a [${k}, ${m}], b [${k}, ${n}] in ${splits} slabs equals a float64 reference`, () => {
      const a = random(k, m, 1);
      const b = random(k, n, 2);
      const before = tf.memory().numTensors;
      const got = matMulTransposeASplitK(a, b, splits);
      const want = referenceATB(
        a.dataSync() as Float32Array,
        b.dataSync() as Float32Array,
        k,
        m,
        n,
      );
      const values = got.dataSync();
      for (let i = 0; i < want.length; i++) expect(values[i]).toBeCloseTo(want[i]!, 3);
      got.dispose();
      expect(tf.memory().numTensors).toBe(before);
      tf.dispose([a, b]);
    });
  }

  it('tallMatMul has the value and both gradients of tf.matMul, and leaks nothing', () => {
    const x = random(777, 6, 3);
    const w = random(6, 4, 4);
    const dy = random(777, 4, 5);
    const loss =
      (f: (x: tf.Tensor2D, w: tf.Tensor2D) => tf.Tensor2D) => (xs: tf.Tensor, ws: tf.Tensor) =>
        tf.sum(tf.mul(f(xs as tf.Tensor2D, ws as tf.Tensor2D), dy));
    const before = tf.memory().numTensors;
    const [gx, gw] = tf.grads(loss((a, b) => tallMatMul(a, b, { splitK: 9 })))([x, w]);
    const [rx, rw] = tf.grads(loss((a, b) => tf.matMul(a, b)))([x, w]);
    const value = tallMatMul(x, w, { splitK: 9 });
    const plain = tf.matMul(x, w);
    expect(Array.from(value.dataSync())).toEqual(Array.from(plain.dataSync()));
    const close = (p: tf.Tensor, q: tf.Tensor) => {
      const a = p.dataSync();
      const b = q.dataSync();
      for (let i = 0; i < a.length; i++) expect(a[i]).toBeCloseTo(b[i]!, 3);
    };
    close(gx!, rx!);
    close(gw!, rw!);
    tf.dispose([gx!, gw!, rx!, rw!, value, plain]);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, w, dy]);
  });

  it('splits only on webgpu and only for tall inputs; bad splits are refused with the accepted range', () => {
    expect(defaultSplitK(1 << 20)).toBe(1); // cpu backend here
    const x = random(4, 2, 6);
    const w = random(2, 2, 7);
    expect(() => tallMatMul(x, w, { splitK: 0 })).toThrow(/splitK to be an integer >= 1, got 0/);
    expect(() => matMulTransposeASplitK(x, random(5, 2, 8), 2)).toThrow(/as many rows/);
    tf.dispose([x, w]);
  });
});
