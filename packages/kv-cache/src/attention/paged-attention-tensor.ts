import * as tf from '@tensorflow/tfjs-core';
import { PlexusKvCacheError } from '../errors.js';
import type { PagedKvSource } from '../storage/layout.js';
import { WebGpuKvStorage } from '../webgpu/webgpu-kv-storage.js';
import { type PagedAttentionOptions, type PagedQuery, pagedAttention } from './paged-attention.js';

/**
 * {@link pagedAttention} for a tfjs query tensor `[totalQueries, numHeads,
 * headDim]`; returns a new tensor of the same shape (the caller disposes it).
 * `q` itself is not disposed.
 *
 * With a host store (`PagedKvStorage`, quantised stores) on any backend, `q`
 * is read to the host and the host kernel runs over the store. With a
 * {@link WebGpuKvStorage} (cache resident on the GPU), the WGSL decode or
 * chunked-prefill kernel runs over the device pools and nothing is read
 * back.
 */
export function pagedAttentionTensor(
  source: PagedKvSource | WebGpuKvStorage,
  layer: number,
  q: tf.Tensor3D,
  queries: readonly PagedQuery[],
  options: PagedAttentionOptions,
): tf.Tensor3D {
  if (WebGpuKvStorage.isInstance(source)) {
    checkHeads(source, q, options);
    return source.attention(layer, q, queries, options);
  }
  const data = q.dataSync() as Float32Array;
  const out = pagedAttention(source, layer, data, queries, options);
  return tf.tensor3d(out, q.shape);
}

function checkHeads(source: WebGpuKvStorage, q: tf.Tensor3D, options: PagedAttentionOptions): void {
  if (q.shape[1] !== options.numHeads || q.shape[2] !== source.layout.headDim)
    throw new PlexusKvCacheError(
      'attention',
      `q is [${q.shape.join(', ')}]; expected [totalQueries, numHeads = ${options.numHeads}, headDim = ${source.layout.headDim}]`,
    );
}
