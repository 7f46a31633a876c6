import * as tf from '@tensorflow/tfjs-core';
import { PlexusTensorError } from '../errors.js';

/** From this many rows on, the weight gradient of {@link tallMatMul} is split on webgpu. */
const SPLIT_K_MIN_ROWS = 1 << 16;
/** Rows per slab when splitting by default. */
const SLAB_ROWS = 4096;

/** Options of {@link tallMatMul}. */
export interface TallMatMulOptions {
  /**
   * Slabs the shared dimension of the weight gradient `xᵀ · dy` is cut into
   * (1: one product, as tf.matMul's own gradient). Default: on webgpu, one
   * per 4,096 rows once `x` has 65,536 rows or more; elsewhere 1.
   */
  readonly splitK?: number;
}

function checkSplits(splits: number): number {
  if (!Number.isInteger(splits) || splits < 1) {
    throw new PlexusTensorError(
      'tallMatMul',
      `expected splitK to be an integer >= 1, got ${splits}`,
    );
  }
  return splits;
}

/**
 * `aᵀ · b` for `a` [K, M] and `b` [K, N], with K cut into `splits` slabs:
 * one batched product over the slabs, then a sum. GPU matmul kernels
 * parallelise over output elements, so a 64 × 64 result with K = 1M is
 * 4,096 threads each walking a million products; slabs multiply the
 * parallelism by `splits` (split-K). Rows are zero-padded to a multiple of
 * `splits` when needed.
 */
export function matMulTransposeASplitK(
  a: tf.Tensor2D,
  b: tf.Tensor2D,
  splits: number,
): tf.Tensor2D {
  checkSplits(splits);
  const [k, m] = a.shape;
  const n = b.shape[1];
  if (b.shape[0] !== k) {
    throw new PlexusTensorError(
      'matMulTransposeASplitK',
      `a and b must have as many rows: a is [${k}, ${m}], b is [${b.shape[0]}, ${n}]`,
    );
  }
  if (splits === 1 || k < 2) return tf.matMul(a, b, true, false);
  return tf.tidy(() => {
    const slab = Math.ceil(k / splits);
    const rows = slab * splits;
    // Zero rows added to both sides contribute nothing to the product.
    const padRows = (t: tf.Tensor2D) =>
      rows > k
        ? tf.pad(t, [
            [0, rows - k],
            [0, 0],
          ])
        : t;
    const pa = padRows(a);
    const pb = padRows(b);
    const parts = tf.matMul(
      tf.reshape(pa, [splits, slab, m]) as tf.Tensor3D,
      tf.reshape(pb, [splits, slab, n]) as tf.Tensor3D,
      true,
      false,
    );
    return tf.sum(parts, 0) as tf.Tensor2D;
  });
}

/** The default split of {@link tallMatMul}'s weight gradient for `rows` rows on the active backend. */
export function defaultSplitK(rows: number): number {
  if (tf.getBackend() !== 'webgpu' || rows < SPLIT_K_MIN_ROWS) return 1;
  return Math.min(1024, Math.ceil(rows / SLAB_ROWS));
}

/**
 * `x · w` (the value tf.matMul gives) for a tall `x` [rows, in] and a small
 * `w` [in, out], whose gradient with respect to `w`, `xᵀ · dy`, is computed
 * split-K ({@link matMulTransposeASplitK}) on webgpu: tfjs' own gradient runs
 * it as one product with a million-long shared dimension, which measured
 * 0.2–0.6 s for 1M × 64 on an H100. The gradient with respect to `x` is
 * `dy · wᵀ` as usual.
 */
export function tallMatMul(
  x: tf.Tensor2D,
  w: tf.Tensor2D,
  options: TallMatMulOptions = {},
): tf.Tensor2D {
  const splits = checkSplits(options.splitK ?? defaultSplitK(x.shape[0]));
  if (splits === 1) return tf.matMul(x, w);
  // tfjs types the custom function's arguments as a rest list ending in `save`.
  const product = tf.customGrad(((xs: tf.Tensor, ws: tf.Tensor, save: tf.GradSaveFunc) => {
    save([xs, ws]);
    return {
      value: tf.matMul(xs as tf.Tensor2D, ws as tf.Tensor2D),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [
        tf.matMul(dy as tf.Tensor2D, saved[1] as tf.Tensor2D, false, true),
        matMulTransposeASplitK(saved[0] as tf.Tensor2D, dy as tf.Tensor2D, splits),
      ],
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return product(x, w) as tf.Tensor2D;
}
