import type { Metric } from '../metric.js';

/**
 * Distance kernels over one shared buffer. Every address is a byte offset
 * into that buffer; vectors are `dim` floats long, where `dim` is the padded
 * dimension (a multiple of 4, padding lanes zero).
 */
export interface DistanceKernel {
  /** Which implementation this is. */
  readonly kind: 'wasm' | 'js';
  /** Distance between the vectors at byte addresses `a` and `b`. */
  pair(a: number, b: number): number;
  /**
   * `out[i] = dist(q, base + ids[i] * stride)` for `i < n`, with `ids` an
   * int32 array at byte address `ids` and `out` a float32 array at `out`.
   */
  batch(q: number, ids: number, n: number, out: number): void;
  /** `out[j] = dist(q, base + (first + j) * stride)` for `j < n`: a contiguous scan. */
  scan(q: number, first: number, n: number, out: number): void;
}

/** Layout facts a kernel needs, fixed for the life of one buffer. */
export interface KernelLayout {
  readonly metric: Metric;
  /** Padded dimension (multiple of 4). */
  readonly paddedDim: number;
  /** Byte address of vector 0. */
  readonly vectorBase: number;
}
