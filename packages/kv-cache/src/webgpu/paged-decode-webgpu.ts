import * as tf from '@tensorflow/tfjs-core';
import { PlexusKvCacheError } from '../errors.js';
import { DECODE_WORKGROUP_SIZE, pagedDecodeShader } from './paged-decode-program.js';

const MODULE = 'webgpu';

/** Workgroups per grid dimension every WebGPU device supports. */
const MAX_WORKGROUPS_PER_DIM = 65535;

/**
 * The part of tfjs' `WebGPUBackend` this kernel calls, declared here so the
 * package needs no dependency on `@tensorflow/tfjs-backend-webgpu` (whoever
 * registers the webgpu backend already has it).
 */
interface WebGpuProgramRunner {
  runWebGPUProgram(
    program: {
      outputShape: number[];
      shaderKey: string;
      dispatchLayout: { x: number[] };
      dispatch: [number, number, number];
      variableNames: string[];
      workgroupSize: [number, number, number];
      uniforms: string;
      getUserCode: () => string;
    },
    inputs: tf.TensorInfo[],
    outputDtype: tf.DataType,
    uniforms: Array<{ type: string; data: number[] }>,
  ): tf.TensorInfo;
}

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
  if (tf.getBackend() !== 'webgpu')
    throw new PlexusKvCacheError(
      MODULE,
      `the active tfjs backend is ${tf.getBackend()}; expected webgpu`,
    );
  const [numSeqs, numHeads, headDim] = q.shape;
  const { blockSize, numKvHeads } = options;
  checkShapes(kCache, vCache, blockTables, contextLens, q, options);
  const maxBlocks = blockTables.shape[1];
  const numBlocks = kCache.size / (blockSize * numKvHeads * headDim);
  if (numSeqs * numHeads * headDim === 0) return tf.zeros([numSeqs, numHeads, headDim]);
  const scale = options.scale ?? 1 / Math.sqrt(headDim);
  const workgroups = numSeqs * numHeads;
  const dx = Math.min(workgroups, MAX_WORKGROUPS_PER_DIM);
  const dy = Math.ceil(workgroups / dx);
  if (dy > MAX_WORKGROUPS_PER_DIM)
    throw new PlexusKvCacheError(
      MODULE,
      `${workgroups} (sequence, head) pairs exceed one dispatch`,
    );
  const shape = { headDim, blockSize, numHeads, numKvHeads };
  const program = {
    outputShape: [numSeqs, numHeads, headDim],
    shaderKey: `plexusPagedDecode_${headDim}_${blockSize}_${numHeads}_${numKvHeads}`,
    dispatchLayout: { x: [0] },
    dispatch: [dx, dy, 1] as [number, number, number],
    variableNames: ['kCache', 'vCache', 'blockTables', 'contextLens', 'query'],
    workgroupSize: [DECODE_WORKGROUP_SIZE, 1, 1] as [number, number, number],
    uniforms: 'numSeqs : i32, maxBlocks : i32, numBlocks : i32, numTiles : i32, scale : f32,',
    getUserCode: () => pagedDecodeShader(shape),
  };
  const int = (v: number): { type: string; data: number[] } => ({ type: 'int32', data: [v] });
  const uniforms = [
    int(numSeqs),
    int(maxBlocks),
    int(numBlocks),
    // Tiles to cover the longest context a block table can describe.
    int(Math.ceil((maxBlocks * blockSize) / DECODE_WORKGROUP_SIZE)),
    { type: 'float32', data: [scale] },
  ];
  const backend = tf.backend() as unknown as WebGpuProgramRunner;
  const info = backend.runWebGPUProgram(
    program,
    [kCache, vCache, blockTables, contextLens, q],
    'float32',
    uniforms,
  );
  return tf.engine().makeTensorFromTensorInfo(info) as tf.Tensor3D;
}

function checkShapes(
  kCache: tf.Tensor,
  vCache: tf.Tensor,
  blockTables: tf.Tensor2D,
  contextLens: tf.Tensor1D,
  q: tf.Tensor3D,
  options: PagedDecodeWebGpuOptions,
): void {
  const [numSeqs, numHeads, headDim] = q.shape;
  const { blockSize, numKvHeads } = options;
  for (const [name, v] of [
    ['blockSize', blockSize],
    ['numKvHeads', numKvHeads],
  ] as const)
    if (!Number.isInteger(v) || v < 1)
      throw new PlexusKvCacheError(MODULE, `${name} is ${v}; expected a positive integer`);
  if (numHeads % numKvHeads !== 0)
    throw new PlexusKvCacheError(
      MODULE,
      `q has ${numHeads} heads; expected a multiple of numKvHeads (${numKvHeads})`,
    );
  const row = blockSize * numKvHeads * headDim;
  if (kCache.size !== vCache.size || kCache.size % row !== 0 || kCache.size === 0)
    throw new PlexusKvCacheError(
      MODULE,
      `K/V caches have ${kCache.size} and ${vCache.size} values; expected equal non-zero multiples of blockSize * numKvHeads * headDim = ${row}`,
    );
  if (kCache.dtype !== 'float32' || vCache.dtype !== 'float32' || q.dtype !== 'float32')
    throw new PlexusKvCacheError(MODULE, 'K/V caches and q must be float32');
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
