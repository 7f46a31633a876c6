import * as tf from '@tensorflow/tfjs-core';
import { PlexusKvCacheError } from '../errors.js';
import { grid, int, runProgram, webGpuBackend } from './backend.js';
import { checkCacheShapes } from './check.js';
import { DECODE_WORKGROUP_SIZE, pagedDecodeShader } from './paged-decode-program.js';

const MODULE = 'webgpu';

/** Options of {@link pagedDecodeAttentionWebGpu}. */
export interface PagedDecodeWebGpuOptions {
  /** Tokens per block of the cache. */
  readonly blockSize: number;
  /** KV heads of the cache; the query's head count must be a multiple (GQA / MQA). */
  readonly numKvHeads: number;
  /** Logit scale. Default `1 / sqrt(headDim)`. */
  readonly scale?: number;
}

/**
 * Paged decode attention on the tfjs webgpu backend: one query token per
 * sequence attends to the first `contextLens[s]` tokens of its cache, read
 * in place through its block table by one WGSL workgroup per (sequence,
 * query head) with an online softmax (no dense gather of the cache).
 *
 * - `kCache`, `vCache`: one layer's float32 cache, any shape of
 *   `numBlocks * blockSize * numKvHeads * headDim` values laid out
 *   `[numBlocks, blockSize, numKvHeads, headDim]` (as in `PagedKvStorage`).
 * - `blockTables`: int32 `[numSeqs, maxBlocksPerSeq]`, padded with -1.
 * - `contextLens`: int32 `[numSeqs]`, each at least 1 (the query's own K/V
 *   must already be written); a sequence of length 0 gets zeros.
 * - `q`: float32 `[numSeqs, numHeads, headDim]`; query head `h` reads KV head
 *   `floor(h / (numHeads / numKvHeads))`, as `pagedAttention` does.
 *
 * Returns a new `[numSeqs, numHeads, headDim]` tensor the caller disposes;
 * no input is disposed. Equal to `pagedAttention` with `numQueries = 1`,
 * `queryStart = contextLens[s] - 1`, within float tolerance.
 */
export function pagedDecodeAttentionWebGpu(
  kCache: tf.Tensor,
  vCache: tf.Tensor,
  blockTables: tf.Tensor2D,
  contextLens: tf.Tensor1D,
  q: tf.Tensor3D,
  options: PagedDecodeWebGpuOptions,
): tf.Tensor3D {
  const backend = webGpuBackend(MODULE);
  const [numSeqs, numHeads, headDim] = q.shape;
  const { blockSize, numKvHeads } = options;
  checkShapes(kCache, vCache, blockTables, contextLens, q, options);
  const maxBlocks = blockTables.shape[1];
  const numBlocks = kCache.size / (blockSize * numKvHeads * headDim);
  if (numSeqs * numHeads * headDim === 0) return tf.zeros([numSeqs, numHeads, headDim]);
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  const shape = { headDim, blockSize, numHeads, numKvHeads };
  const program = {
    outputShape: [numSeqs, numHeads, headDim],
    shaderKey: `plexusPagedDecode_${headDim}_${blockSize}_${numHeads}_${numKvHeads}`,
    dispatchLayout: { x: [0] },
    dispatch: grid(numSeqs * numHeads, MODULE),
    variableNames: ['kCache', 'vCache', 'blockTables', 'contextLens', 'query'],
    workgroupSize: [DECODE_WORKGROUP_SIZE, 1, 1] as [number, number, number],
    uniforms: 'numSeqs : i32, maxBlocks : i32, numBlocks : i32, numTiles : i32, scale : f32,',
    getUserCode: () => pagedDecodeShader(shape),
  };
  const uniforms = [
    int(numSeqs),
    int(maxBlocks),
    int(numBlocks),
    // Tiles to cover the longest context a block table can describe.
    int(Math.ceil((maxBlocks * blockSize) / DECODE_WORKGROUP_SIZE)),
    { type: 'float32', data: [scale] },
  ];
  return runProgram<tf.Tensor3D>(
    backend,
    program,
    [kCache, vCache, blockTables, contextLens, q],
    uniforms,
  );
}

function checkShapes(
  kCache: tf.Tensor,
  vCache: tf.Tensor,
  blockTables: tf.Tensor2D,
  contextLens: tf.Tensor1D,
  q: tf.Tensor3D,
  options: PagedDecodeWebGpuOptions,
): void {
  const numSeqs = q.shape[0];
  checkCacheShapes(kCache, vCache, q, options.blockSize, options.numKvHeads, MODULE);
  if (blockTables.dtype !== 'int32' || contextLens.dtype !== 'int32')
    throw new PlexusKvCacheError(MODULE, 'blockTables and contextLens must be int32');
  if (
    blockTables.shape[0] !== numSeqs ||
    contextLens.shape[0] !== numSeqs ||
    blockTables.shape[1] < 1
  )
    throw new PlexusKvCacheError(
      MODULE,
      `blockTables is [${blockTables.shape.join(', ')}] and contextLens [${contextLens.shape.join(', ')}]; expected [${numSeqs}, >= 1] and [${numSeqs}]`,
    );
}
