import * as tf from '@tensorflow/tfjs-core';
import { SeededRandom } from '../../random.js';
import { batchIndices } from './batch-offsets.js';

/** A test case: shapes as given to `tf.matMul` and its transpose flags. */
export interface MatMulCase {
  aShape: number[];
  bShape: number[];
  transA: boolean;
  transB: boolean;
}

/**
 * Float64 reference of tfjs `matMul` (batch broadcasting, transposes), and
 * the scale of each output's rounding error: Σ_k |a_ik · b_kj|.
 */
export function referenceMatMul(
  a: Float32Array,
  b: Float32Array,
  c: MatMulCase,
): { shape: number[]; values: Float64Array; scale: Float64Array } {
  const ra = c.aShape.length;
  const rb = c.bShape.length;
  const m = c.aShape[c.transA ? ra - 1 : ra - 2]!;
  const k = c.aShape[c.transA ? ra - 2 : ra - 1]!;
  const n = c.bShape[c.transB ? rb - 2 : rb - 1]!;
  const aBatch = c.aShape.slice(0, -2);
  const bBatch = c.bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const outBatch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aBatch[aBatch.length - rank + i] ?? 1;
    const db = bBatch[bBatch.length - rank + i] ?? 1;
    outBatch.push(Math.max(da, db));
  }
  const batches = outBatch.reduce((p, d) => p * d, 1);
  const ai = batchIndices(outBatch, aBatch);
  const bi = batchIndices(outBatch, bBatch);
  const values = new Float64Array(batches * m * n);
  const scale = new Float64Array(batches * m * n);
  for (let q = 0; q < batches; q++) {
    const ao = ai[q]! * m * k;
    const bo = bi[q]! * k * n;
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        let t = 0;
        for (let p = 0; p < k; p++) {
          const x = a[ao + (c.transA ? p * m + i : i * k + p)]!;
          const y = b[bo + (c.transB ? j * k + p : p * n + j)]!;
          s += x * y;
          t += Math.abs(x * y);
        }
        values[(q * m + i) * n + j] = s;
        scale[(q * m + i) * n + j] = t;
      }
  }
  return { shape: [...outBatch, m, n], values, scale };
}

/**
 * Run `tf.matMul` on seeded random inputs and compare with the reference:
 * each output within `tol · (1 + Σ|a·b|)`, the size float32 rounding of
 * the dot product can reach. Returns the worst ratio error/allowed.
 */
export function checkMatMul(c: MatMulCase, seed = 1, tol = 1e-5): number {
  const rng = new SeededRandom(seed);
  const size = (s: number[]) => s.reduce((p, d) => p * d, 1);
  const a = Float32Array.from({ length: size(c.aShape) }, () => rng.normal());
  const b = Float32Array.from({ length: size(c.bShape) }, () => rng.normal());
  const out = tf.tidy(() =>
    tf.matMul(tf.tensor(a, c.aShape), tf.tensor(b, c.bShape), c.transA, c.transB),
  );
  const got = out.dataSync();
  const shape = out.shape;
  out.dispose();
  const ref = referenceMatMul(a, b, c);
  if (shape.join() !== ref.shape.join())
    throw new Error(`shape [${shape}] differs from expected [${ref.shape}] for ${caseName(c)}`);
  let worst = 0;
  for (let i = 0; i < got.length; i++) {
    const allowed = tol * (1 + ref.scale[i]!);
    const ratio = Math.abs(got[i]! - ref.values[i]!) / allowed;
    if (!(ratio <= 1))
      throw new Error(
        `${caseName(c)}: element ${i} is ${got[i]}, expected ${ref.values[i]} (allowed ±${allowed})`,
      );
    worst = Math.max(worst, ratio);
  }
  return worst;
}

/** A readable name for a case. */
export function caseName(c: MatMulCase): string {
  return `[${c.aShape}]${c.transA ? 'ᵀ' : ''} x [${c.bShape}]${c.transB ? 'ᵀ' : ''}`;
}

/** The case for `op(A)` of `[m, k]` and `op(B)` of `[k, n]` with batch dims. */
export function caseOf(
  m: number,
  n: number,
  k: number,
  transA: boolean,
  transB: boolean,
  aBatch: number[] = [],
  bBatch: number[] = [],
): MatMulCase {
  return {
    aShape: [...aBatch, ...(transA ? [k, m] : [m, k])],
    bShape: [...bBatch, ...(transB ? [n, k] : [k, n])],
    transA,
    transB,
  };
}
