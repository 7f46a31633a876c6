import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  BlockManager,
  denseAttention,
  type KvLayout,
  type KvTile,
  type PagedKvSource,
  PagedKvStorage,
  pagedAttentionTensor,
} from '../src/index.js';
import { interleavedMedians } from './workload.js';

/** Decode-attention timings for one backend. */
export interface AttentionRow {
  readonly backend: string;
  readonly config: string;
  /** Paged host kernel through block tables (scattered blocks), q and output as tensors. */
  readonly pagedMs: number;
  /** The same kernel and tensor wrapper over each sequence's K/V as one contiguous block. */
  readonly denseHostMs: number;
  /** Dense attention with tfjs ops on the backend (K/V already on the backend). */
  readonly denseTfjsMs: number;
  readonly pagedOverDenseHost: number;
  readonly pagedOverDenseTfjs: number;
}

/** A "dense" source: each sequence's K/V contiguous, read as one giant block. */
class ContiguousSource implements PagedKvSource {
  readonly layout: KvLayout;
  private readonly t: KvTile = { data: new Float32Array(0), offset: 0, stride: 0 };
  constructor(
    private readonly k: Float32Array[],
    private readonly v: Float32Array[],
    numKvHeads: number,
    headDim: number,
    length: number,
  ) {
    this.layout = { numLayers: 1, numBlocks: k.length, blockSize: length, numKvHeads, headDim };
  }
  tile(which: 'k' | 'v', _layer: number, block: number, kvHead: number): KvTile {
    this.t.data = (which === 'k' ? this.k : this.v)[block]!;
    this.t.offset = kvHead * this.layout.headDim;
    this.t.stride = this.layout.numKvHeads * this.layout.headDim;
    return this.t;
  }
}

/** Time batched decode attention, paged against dense, on each backend. */
export async function decodeAttention(
  backends: readonly ('cpu' | 'wasm')[],
  cfg = {
    batch: 8,
    length: 1024,
    numHeads: 16,
    numKvHeads: 4,
    headDim: 64,
    blockSize: 16 as const,
  },
  reps = 7,
): Promise<AttentionRow[]> {
  const { batch, length, numHeads: H, numKvHeads: kvH, headDim: d, blockSize } = cfg;
  const rand = new SeededRandom(42);
  const numBlocks = (batch * length) / blockSize + 8;
  const manager = new BlockManager({
    numBlocks,
    blockSize,
    watermark: 0,
    enablePrefixCaching: false,
  });
  const storage = new PagedKvStorage({
    numLayers: 1,
    numBlocks,
    blockSize,
    numKvHeads: kvH,
    headDim: d,
  });
  // Interleave allocation so each sequence's blocks are scattered over the pool.
  for (let s = 0; s < batch; s++) manager.addSequence(s, [s]);
  for (let t = 1; t < length; t++) for (let s = 0; s < batch; s++) manager.appendTokens(s, [t]);
  const ks: Float32Array[] = [];
  const vs: Float32Array[] = [];
  for (let s = 0; s < batch; s++) {
    ks.push(rand.fillNormal(new Float32Array(length * kvH * d)));
    vs.push(rand.fillNormal(new Float32Array(length * kvH * d)));
    storage.write(0, manager.blockTable(s), 0, ks[s]!, vs[s]!);
  }
  const dense = new ContiguousSource(ks, vs, kvH, d, length);
  const queries = Array.from({ length: batch }, (_, s) => ({
    blockTable: manager.blockTable(s),
    queryStart: length - 1,
    numQueries: 1,
  }));
  const denseQueries = Array.from({ length: batch }, (_, s) => ({
    blockTable: [s],
    queryStart: length - 1,
    numQueries: 1,
  }));
  const qHost = rand.fillNormal(new Float32Array(batch * H * d));
  const config = `batch ${batch} x ${length} tokens, ${H} heads / ${kvH} KV heads, dim ${d}, block ${blockSize}`;
  const rows: AttentionRow[] = [];
  for (const backend of backends) {
    await initBackend({ backend });
    const q = tf.tensor3d(qHost, [batch, H, d]);
    const kT = ks.map((k) => tf.tensor3d(k, [length, kvH, d]));
    const vT = vs.map((v) => tf.tensor3d(v, [length, kvH, d]));
    const qs = tf.split(q, batch, 0) as tf.Tensor3D[];
    const [pagedMs, denseHostMs, denseTfjsMs] = interleavedMedians(
      [
        () => pagedAttentionTensor(storage, 0, q, queries, { numHeads: H }).dispose(),
        () => pagedAttentionTensor(dense, 0, q, denseQueries, { numHeads: H }).dispose(),
        () => {
          const outs = qs.map((qi, s) => denseAttention(qi, kT[s]!, vT[s]!, length - 1));
          for (const o of outs) {
            o.dataSync();
            o.dispose();
          }
        },
      ],
      reps,
    ) as [number, number, number];
    tf.dispose([q, ...kT, ...vT, ...qs]);
    rows.push({
      backend,
      config,
      pagedMs,
      denseHostMs,
      denseTfjsMs,
      pagedOverDenseHost: pagedMs / denseHostMs,
      pagedOverDenseTfjs: pagedMs / denseTfjsMs,
    });
  }
  return rows;
}
