import * as tf from '@tensorflow/tfjs-core';
import type { PagedKvSource } from '../storage/layout.js';
import { type PagedAttentionOptions, type PagedQuery, pagedAttention } from './paged-attention.js';

/**
 * {@link pagedAttention} for a tfjs query tensor `[totalQueries, numHeads,
 * headDim]` on any backend: reads `q` to the host, runs the host kernel over
 * the paged store and returns a new tensor of the same shape (the caller
 * disposes it). `q` itself is not disposed.
 */
export function pagedAttentionTensor(
  source: PagedKvSource,
  layer: number,
  q: tf.Tensor3D,
  queries: readonly PagedQuery[],
  options: PagedAttentionOptions,
): tf.Tensor3D {
  const data = q.dataSync() as Float32Array;
  const out = pagedAttention(source, layer, data, queries, options);
  return tf.tensor3d(out, q.shape);
}
