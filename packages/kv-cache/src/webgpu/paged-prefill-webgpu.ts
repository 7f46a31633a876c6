import * as tf from '@tensorflow/tfjs-core';
import { PlexusKvCacheError } from '../errors.js';
import { grid, int, runProgram, webGpuBackend } from './backend.js';
import { checkCacheShapes } from './check.js';
import {
  PREFILL_WORKGROUP_SIZE,
  pagedPrefillShader,
  prefillTiles,
} from './paged-prefill-program.js';

const MODULE = 'webgpu';

/** One sequence's chunk of queries in {@link pagedPrefillAttentionWebGpu}. */
export interface PrefillChunk {
  /** Position of the chunk's first query (tokens before it are already cached). */
  readonly queryStart: number;
  /** Queries in the chunk (consecutive positions; their own K/V must already be written). */
  readonly numQueries: number;
}

/** Options of {@link pagedPrefillAttentionWebGpu}. */
export interface PagedPrefillWebGpuOptions {
  /** Tokens per block of the cache. */
  readonly blockSize: number;
  /** KV heads of the cache; the query's head count must be a multiple (GQA / MQA). */
  readonly numKvHeads: number;
  /** Logit scale. Default `1 / sqrt(headDim)`. */
  readonly scale?: number;
}

/**
 * Causal chunked-prefill attention over a paged cache on the tfjs webgpu
 * backend: sequence `s`'s queries sit at positions `chunks[s].queryStart ..
 * + numQueries - 1` and attend to every cached position up to their own, read
 * in place through `blockTables[s]` by a tiled online-softmax WGSL kernel (no
 * dense gather of the cache). Decode is the case `numQueries = 1`.
 *
 * - `kCache`, `vCache`: one layer's float32 cache of `numBlocks * blockSize *
 *   numKvHeads * headDim` values laid out `[numBlocks, blockSize,
 *   numKvHeads, headDim]` (as in `PagedKvStorage`).
 * - `blockTables`: int32 `[numSeqs, maxBlocksPerSeq]`, padded with -1.
 * - `q`: float32 `[totalQueries, numHeads, headDim]`, each sequence's
 *   queries consecutive in `chunks` order (as `pagedAttention` takes them).
 *
 * Returns a new `[totalQueries, numHeads, headDim]` tensor the caller
 * disposes; no input is disposed. Equal to `pagedAttention` with the same
 * queries within float tolerance. `chunks` is host metadata: it sizes the
 * dispatch, and only a few int32 values per sequence are uploaded.
 */
export function pagedPrefillAttentionWebGpu(
  kCache: tf.Tensor,
  vCache: tf.Tensor,
  blockTables: tf.Tensor2D,
  chunks: readonly PrefillChunk[],
  q: tf.Tensor3D,
  options: PagedPrefillWebGpuOptions,
): tf.Tensor3D {
  const backend = webGpuBackend(MODULE);
  const [totalQueries, numHeads, headDim] = q.shape;
  const { blockSize, numKvHeads } = options;
  checkCacheShapes(kCache, vCache, q, blockSize, numKvHeads, MODULE);
  const numSeqs = chunks.length;
  const maxBlocks = blockTables.shape[1];
  if (blockTables.dtype !== 'int32' || blockTables.shape[0] !== numSeqs || maxBlocks < 1)
    throw new PlexusKvCacheError(
      MODULE,
      `blockTables is ${blockTables.dtype} [${blockTables.shape.join(', ')}]; expected int32 [${numSeqs}, >= 1] (one row per chunk)`,
    );
  const { qt } = prefillTiles(headDim, MODULE);
  const seqInfo = new Int32Array(numSeqs * 3);
  const tiles: number[] = [];
  let row = 0;
  for (const [s, c] of chunks.entries()) {
    if (
      !Number.isInteger(c.numQueries) ||
      c.numQueries < 1 ||
      !Number.isInteger(c.queryStart) ||
      c.queryStart < 0
    )
      throw new PlexusKvCacheError(
        MODULE,
        `chunk ${s} has numQueries ${c.numQueries} at ${c.queryStart}; expected at least 1 at an integer position >= 0`,
      );
    if (c.queryStart + c.numQueries > maxBlocks * blockSize)
      throw new PlexusKvCacheError(
        MODULE,
        `chunk ${s} ends at position ${c.queryStart + c.numQueries}; expected at most maxBlocksPerSeq * blockSize = ${maxBlocks * blockSize}`,
      );
    seqInfo.set([c.queryStart, c.numQueries, row], s * 3);
    for (let q0 = 0; q0 < c.numQueries; q0 += qt) tiles.push(s, q0);
    row += c.numQueries;
  }
  if (row !== totalQueries)
    throw new PlexusKvCacheError(
      MODULE,
      `q has ${totalQueries} query rows; expected the chunks' total ${row}`,
    );
  if (totalQueries * numHeads * headDim === 0) return tf.zeros([totalQueries, numHeads, headDim]);
  const numBlocks = kCache.size / (blockSize * numKvHeads * headDim);
  const numTiles = tiles.length / 2;
  const shape = { headDim, blockSize, numHeads, numKvHeads };
  const program = {
    outputShape: [totalQueries, numHeads, headDim],
    shaderKey: `plexusPagedPrefill_${headDim}_${blockSize}_${numHeads}_${numKvHeads}`,
    dispatchLayout: { x: [0] },
    dispatch: grid(numTiles * numHeads, MODULE),
    variableNames: ['kCache', 'vCache', 'blockTables', 'seqInfo', 'tileInfo', 'query'],
    workgroupSize: [PREFILL_WORKGROUP_SIZE, 1, 1] as [number, number, number],
    uniforms: 'numTiles : i32, maxBlocks : i32, numBlocks : i32, scale : f32,',
    getUserCode: () => pagedPrefillShader(shape, MODULE),
  };
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  const meta = [tf.tensor1d(seqInfo, 'int32'), tf.tensor1d(Int32Array.from(tiles), 'int32')];
  try {
    return runProgram<tf.Tensor3D>(
      backend,
      program,
      [kCache, vCache, blockTables, meta[0]!, meta[1]!, q],
      [int(numTiles), int(maxBlocks), int(numBlocks), { type: 'float32', data: [scale] }],
    );
  } finally {
    tf.dispose(meta);
  }
}
