import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../backend/init-backend.js';
import { SeededRandom } from '../../random.js';
import { wasmMatMulActive } from './install.js';
import {
  caseName,
  caseOf,
  checkMatMul,
  type MatMulCase,
  referenceMatMul,
} from './test-reference.js';

const FLAGS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

// m, n, k: ones, every remainder of the 4-row and 8-column tiles, k with
// odd counts (the micro-kernel runs k in pairs), more rows than one row
// block (128), more columns than one column block (1024), deeper than one
// depth block (256, so C is accumulated over blocks).
const SIZES: ReadonlyArray<readonly [number, number, number]> = [
  [1, 1, 1],
  [1, 8, 1],
  [4, 8, 2],
  [3, 7, 5],
  [5, 9, 3],
  [6, 10, 4],
  [7, 15, 6],
  [8, 16, 7],
  [13, 1, 31],
  [1, 13, 31],
  [128, 32, 64],
  [131, 9, 3],
  [2, 1030, 3],
  [9, 17, 257],
  [33, 65, 513],
  [5, 9, 1100],
];

describe('wasm SIMD BatchMatMul', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('is the registered wasm BatchMatMul after initBackend', () => {
    expect(tf.getBackend()).toBe('wasm');
    expect(wasmMatMulActive()).toBe(true);
    // Only the Plexus kernel words its shape errors this way (tfjs' op does
    // not check shapes itself, its kernel does).
    expect(() => tf.matMul(tf.zeros([2, 3]), tf.zeros([4, 5]))).toThrow(
      /^@plexus\/tensor\/wasm-matmul: inner dims of a \[2,3\] and b \[4,5\] differ/,
    );
  });

  for (const [transA, transB] of FLAGS) {
    it(`matches the float64 reference, transposeA=${transA} transposeB=${transB}`, () => {
      for (const [m, n, k] of SIZES) checkMatMul(caseOf(m, n, k, transA, transB), m * 1000 + n);
    });
  }

  it('matches the reference at 300 x 300 x 300, all four transpose cases', () => {
    for (const [transA, transB] of FLAGS) checkMatMul(caseOf(300, 300, 300, transA, transB));
  });

  it('broadcasts batch dims like tfjs', () => {
    const cases: MatMulCase[] = [];
    for (const [transA, transB] of FLAGS) {
      cases.push(
        caseOf(5, 6, 4, transA, transB, [2, 3], [3]),
        caseOf(5, 6, 4, transA, transB, [3], []),
        caseOf(5, 6, 4, transA, transB, [], [3]),
        caseOf(5, 6, 4, transA, transB, [2, 1], [1, 3]),
        caseOf(5, 6, 4, transA, transB, [1], [4]),
        caseOf(3, 9, 7, transA, transB, [4], [4]),
      );
    }
    for (const c of cases) checkMatMul(c);
  });

  it('returns zeros for an empty inner dimension and empty outputs for empty outer ones', () => {
    const z = tf.matMul(tf.ones([3, 0]), tf.ones([0, 4]));
    expect(z.shape).toEqual([3, 4]);
    expect(Array.from(z.dataSync())).toEqual(new Array(12).fill(0));
    const e = tf.matMul(tf.ones([0, 5]), tf.ones([5, 4]));
    expect(e.shape).toEqual([0, 4]);
    const eb = tf.matMul(tf.ones([2, 0, 3, 5]), tf.ones([5, 4]));
    expect(eb.shape).toEqual([2, 0, 3, 4]);
    tf.dispose([z, e, eb]);
  });

  it('matches the reference on random shapes (fast-check)', () => {
    const dim = fc.integer({ min: 1, max: 21 });
    const batch = fc.array(fc.integer({ min: 1, max: 3 }), { maxLength: 2 });
    fc.assert(
      fc.property(
        dim,
        dim,
        dim,
        fc.boolean(),
        fc.boolean(),
        batch,
        fc.boolean(),
        (m, n, k, ta, tb, bd, mask) => {
          // The second operand gets the same batch dims, some set to 1 or dropped.
          const other = mask ? bd.map((d, i) => (i % 2 === 0 ? 1 : d)) : bd.slice(1);
          const c = caseOf(m, n, k, ta, tb, bd, other);
          expect(checkMatMul(c, m + n + k), caseName(c)).toBeLessThanOrEqual(1);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('gives tfjs gradients that match the reference for all transpose cases', () => {
    for (const [transA, transB] of FLAGS) {
      const c = caseOf(7, 11, 9, transA, transB, [2], [2]);
      const wShape = [2, 7, 11];
      const rng = new SeededRandom(5);
      const host = (s: number[]) =>
        Float32Array.from({ length: s.reduce((p, d) => p * d, 1) }, () => rng.normal());
      const [av, bv, wv] = [host(c.aShape), host(c.bShape), host(wShape)];
      const [ga, gb] = tf.tidy(() =>
        tf.grads((x: tf.Tensor, y: tf.Tensor) =>
          tf.sum(tf.mul(tf.matMul(x, y, transA, transB), tf.tensor(wv, wShape))),
        )([tf.tensor(av, c.aShape), tf.tensor(bv, c.bShape)]),
      );
      // With L = Σ W ⊙ op(A)·op(B): dL/dop(A) = W·op(B)ᵀ and dL/dop(B) = op(A)ᵀ·W,
      // transposed back where the operand was given transposed.
      const wantA = transA
        ? referenceMatMul(bv, wv, {
            aShape: c.bShape,
            bShape: wShape,
            transA: transB,
            transB: true,
          })
        : referenceMatMul(wv, bv, {
            aShape: wShape,
            bShape: c.bShape,
            transA: false,
            transB: !transB,
          });
      const wantB = transB
        ? referenceMatMul(wv, av, {
            aShape: wShape,
            bShape: c.aShape,
            transA: true,
            transB: transA,
          })
        : referenceMatMul(av, wv, {
            aShape: c.aShape,
            bShape: wShape,
            transA: !transA,
            transB: false,
          });
      expect(ga!.shape).toEqual(c.aShape);
      expect(gb!.shape).toEqual(c.bShape);
      expectClose(ga!.dataSync(), wantA.values, 1e-4);
      expectClose(gb!.dataSync(), wantB.values, 1e-4);
      tf.dispose([ga!, gb!]);
    }
  });

  it('leaks no tensors', () => {
    const a = tf.randomNormal([3, 40, 30]);
    const b = tf.randomNormal([30, 20]);
    const bt = tf.randomNormal([20, 40]);
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) {
      tf.matMul(a, b).dispose();
      tf.matMul(a, bt, true, true).dispose();
      tf.dispose(tf.grads((x: tf.Tensor) => tf.sum(tf.matMul(x, b)))([a]));
    }
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([a, b, bt]);
  });

  it('frees its packing scratch (the wasm heap does not grow over repeated calls)', () => {
    const heap = () =>
      (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8.buffer.byteLength;
    const a = tf.randomNormal([300, 400]);
    const b = tf.randomNormal([500, 400]);
    // Each call packs ~1.4 MB; 40 leaked scratch buffers would grow the heap.
    tf.matMul(a, b, false, true).dispose();
    const before = heap();
    for (let i = 0; i < 40; i++) tf.matMul(a, b, false, true).dispose();
    expect(heap()).toBe(before);
    tf.dispose([a, b]);
  });
});

function expectClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < got.length; i++)
    expect(Math.abs(got[i]! - want[i]!)).toBeLessThanOrEqual(tol * (1 + Math.abs(want[i]!)));
}
