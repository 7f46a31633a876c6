import type * as tf from '@tensorflow/tfjs-core';
import { PlexusKvCacheError } from '../errors.js';

/** Throw unless the caches and `q` have float32 shapes that fit the layout. */
export function checkCacheShapes(
  kCache: tf.Tensor,
  vCache: tf.Tensor,
  q: tf.Tensor3D,
  blockSize: number,
  numKvHeads: number,
  module: string,
): void {
  const [, numHeads, headDim] = q.shape;
  for (const [name, v] of [
    ['blockSize', blockSize],
    ['numKvHeads', numKvHeads],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new PlexusKvCacheError(module, `${name} is ${v}; expected a positive integer`);
  if (numHeads % numKvHeads !== 0)
    throw new PlexusKvCacheError(
      module,
      `q has ${numHeads} heads; expected a multiple of numKvHeads (${numKvHeads})`,
    );
  const row = blockSize * numKvHeads * headDim;
  if (kCache.size !== vCache.size || kCache.size % row !== 0 || kCache.size === 0)
    throw new PlexusKvCacheError(
      module,
      `K/V caches have ${kCache.size} and ${vCache.size} values; expected equal non-zero multiples of blockSize * numKvHeads * headDim = ${row}`,
    );
  if (kCache.dtype !== 'float32' || vCache.dtype !== 'float32' || q.dtype !== 'float32')
    throw new PlexusKvCacheError(module, 'K/V caches and q must be float32');
}
