import * as tf from '@tensorflow/tfjs-core';
import type { PagedQuery } from '../attention/paged-attention.js';
import type { CompactionPlan } from '../block-manager/compaction.js';
import type { BlockCopy, SwapPlan } from '../block-manager/types.js';
import { PlexusKvCacheError } from '../errors.js';
import { compactionRows } from '../storage/compaction-rows.js';
import { checkLayout, checkWrite, type KvLayout } from '../storage/layout.js';
import type { PagedKvStorage } from '../storage/paged-kv-storage.js';
import { type WebGpuBackendLike, webGpuBackend } from './backend.js';
import { pagedDecodeAttentionWebGpu } from './paged-decode-webgpu.js';
import { pagedPrefillAttentionWebGpu } from './paged-prefill-webgpu.js';
import { bufferOf, gatherRows, scatterRows } from './row-kernels.js';

const MODULE = 'webgpu-storage';
const MARKER = Symbol.for('@plexus/kv-cache/webgpu-kv-storage');

/**
 * A paged KV store resident on the GPU (tfjs webgpu backend): per layer, K
 * and V are one `GPUBuffer` each, `[numBlocks, blockSize, numKvHeads,
 * headDim]` float32, addressed by the block ids a `BlockManager` hands out.
 *
 * New tokens' K/V (tensors already on the GPU, e.g. a layer's projections)
 * are written into their block slots by an in-place WGSL scatter; decode and
 * prefill attention read the pools through block tables. A decode step
 * therefore moves no K/V between host and device: only the block tables and
 * slot indices (a few int32 per sequence) are uploaded. Copy-on-write copies
 * run on the device; swap plans and `upload` / `read` are the only transfers.
 *
 * Every method records work on tfjs' command encoder, so it is ordered with
 * the tfjs ops around it. Call `dispose()` to free the buffers. Each pool is
 * bound whole: a layer's K must fit the device's `maxStorageBufferBindingSize`
 * (128 MiB unless the adapter grants more).
 */
export class WebGpuKvStorage {
  readonly [MARKER] = true;
  readonly layout: KvLayout;
  private readonly backend: WebGpuBackendLike;
  private readonly kBuffers: GPUBuffer[];
  private readonly vBuffers: GPUBuffer[];
  private readonly kViews: tf.Tensor1D[];
  private readonly vViews: tf.Tensor1D[];
  private readonly row: number;
  private readonly blockLength: number;
  private disposed = false;

  constructor(layout: KvLayout) {
    checkLayout(layout, MODULE);
    this.backend = webGpuBackend(MODULE);
    this.layout = { ...layout };
    this.row = layout.numKvHeads * layout.headDim;
    this.blockLength = layout.blockSize * this.row;
    const size = layout.numBlocks * this.blockLength;
    const max = this.backend.device.limits.maxStorageBufferBindingSize;
    if (size * 4 > max)
      throw new PlexusKvCacheError(
        MODULE,
        `one layer's K needs ${size * 4} bytes; expected at most the device's maxStorageBufferBindingSize (${max})`,
      );
    const make = (): GPUBuffer =>
      this.backend.device.createBuffer({
        size: size * 4,
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
    this.kBuffers = Array.from({ length: layout.numLayers }, make);
    this.vBuffers = Array.from({ length: layout.numLayers }, make);
    // tfjs tensors over the same buffers (zero copy: tfjs never frees them).
    const view = (buffer: GPUBuffer): tf.Tensor1D =>
      tf.tensor({ buffer, zeroCopy: true }, [size], 'float32') as tf.Tensor1D;
    this.kViews = this.kBuffers.map(view);
    this.vViews = this.vBuffers.map(view);
  }

  /** True for a {@link WebGpuKvStorage} from any copy of this package. */
  static isInstance(x: unknown): x is WebGpuKvStorage {
    return typeof x === 'object' && x !== null && MARKER in x;
  }

  /** Bytes of K and V over all layers (device memory). */
  get byteLength(): number {
    return 2 * this.layout.numLayers * this.layout.numBlocks * this.blockLength * 4;
  }

  /** `layer`'s K pool as a flat tensor view; owned by the store (do not dispose). */
  keys(layer: number): tf.Tensor1D {
    this.checkLayer(layer);
    return this.kViews[layer]!;
  }

  /** `layer`'s V pool as a flat tensor view; owned by the store (do not dispose). */
  values(layer: number): tf.Tensor1D {
    this.checkLayer(layer);
    return this.vViews[layer]!;
  }

  /**
   * Write K and V (tensors of `numTokens * numKvHeads * headDim` values,
   * token-major) of tokens at positions `startPos..` of the sequence whose
   * blocks are `table`, in place on the device.
   */
  write(
    layer: number,
    table: readonly number[],
    startPos: number,
    k: tf.Tensor,
    v: tf.Tensor,
  ): void {
    const n = k.size / this.row;
    checkWrite(this.layout, MODULE, layer, table, startPos, n, k.size);
    if (v.size !== k.size) checkWrite(this.layout, MODULE, layer, table, startPos, n, v.size);
    this.writeSlots(
      layer,
      slotMapping(this.layout.blockSize, [{ table, startPos, numTokens: n }]),
      k,
      v,
    );
  }

  /**
   * Write K and V of `slots.length` tokens, token `i` into slot `slots[i]`
   * (`block * blockSize + offset`; -1 skips the token), in place: one
   * dispatch for a whole batch (vLLM's slot mapping). See {@link slotMapping}.
   */
  writeSlots(layer: number, slots: ArrayLike<number>, k: tf.Tensor, v: tf.Tensor): void {
    this.checkLayer(layer);
    const n = slots.length;
    if (
      k.size !== n * this.row ||
      v.size !== k.size ||
      k.dtype !== 'float32' ||
      v.dtype !== 'float32'
    )
      throw new PlexusKvCacheError(
        MODULE,
        `K/V have ${k.size} and ${v.size} values for ${n} slots; expected float32 with ${n} * numKvHeads * headDim = ${n * this.row} each`,
      );
    const total = this.layout.numBlocks * this.layout.blockSize;
    const rows = new Int32Array(n * this.layout.numKvHeads);
    for (let i = 0; i < n; i++) {
      const s = slots[i]!;
      if (!Number.isInteger(s) || s < -1 || s >= total)
        throw new PlexusKvCacheError(
          MODULE,
          `slot ${s} is out of range; expected -1 or an integer in [0, numBlocks * blockSize = ${total})`,
        );
      for (let h = 0; h < this.layout.numKvHeads; h++)
        rows[i * this.layout.numKvHeads + h] = s < 0 ? -1 : s * this.layout.numKvHeads + h;
    }
    this.scatter(layer, k, v, rows);
  }

  /** Run copy-on-write copies (first `numTokens` slots of each block, every layer) on the device. */
  copyBlocks(copies: readonly BlockCopy[]): void {
    const src: number[] = [];
    const dst: number[] = [];
    for (const c of copies) {
      this.checkBlock(c.src);
      this.checkBlock(c.dst);
      const start = (b: number): number => b * this.layout.blockSize * this.layout.numKvHeads;
      for (let r = 0; r < c.numTokens * this.layout.numKvHeads; r++) {
        src.push(start(c.src) + r);
        dst.push(start(c.dst) + r);
      }
    }
    for (let l = 0; l < this.layout.numLayers; l++) this.moveRows(l, src, dst);
  }

  /**
   * Move head rows inside one layer: row `src[i]` to row `dst[i]` (a row is
   * one KV head's `headDim` values of one slot: `slot * numKvHeads + head`).
   * All rows are read before any is written, so sources may be overwritten
   * by other moves of the same call (compaction in place).
   */
  moveRows(layer: number, src: readonly number[], dst: readonly number[]): void {
    this.checkLayer(layer);
    if (src.length !== dst.length)
      throw new PlexusKvCacheError(
        MODULE,
        `${src.length} sources for ${dst.length} destinations; expected equal counts`,
      );
    if (src.length === 0) return;
    const numRows = this.layout.numBlocks * this.layout.blockSize * this.layout.numKvHeads;
    for (const r of [...src, ...dst])
      if (!Number.isInteger(r) || r < 0 || r >= numRows)
        throw new PlexusKvCacheError(MODULE, `row ${r} is out of range; expected [0, ${numRows})`);
    const srcT = tf.tensor1d(Int32Array.from(src), 'int32');
    const d = this.layout.headDim;
    const k = gatherRows(this.backend, this.kViews[layer]!, srcT, d);
    const v = gatherRows(this.backend, this.vViews[layer]!, srcT, d);
    this.scatter(layer, k, v, Int32Array.from(dst), d);
    tf.dispose([srcT, k, v]);
  }

  /** Run a compaction plan (`BlockManager.compact`) on the device: each layer's kept tokens move to the front. */
  compact(plan: CompactionPlan): void {
    for (let l = 0; l < this.layout.numLayers; l++) {
      const { src, dst } = compactionRows(plan, this.layout, l, MODULE);
      this.moveRows(l, src, dst);
    }
  }

  /** Copy a host store's whole contents (same layout) onto the device. */
  upload(host: PagedKvStorage): void {
    this.checkSameShape(host);
    for (let l = 0; l < this.layout.numLayers; l++)
      for (const [src, dst] of [
        [host.keys[l]!, this.kBuffers[l]!],
        [host.values[l]!, this.vBuffers[l]!],
      ] as const) {
        const t = tf.tensor1d(src);
        this.copyBuffer(bufferOf(this.backend, t), 0, dst, 0, src.length * 4);
        this.backend.commandQueueOwnedIds.add(t.dataId);
        t.dispose();
      }
  }

  /** Read `layer`'s K and V back to the host (tests, debugging). */
  async read(layer: number): Promise<{ keys: Float32Array; values: Float32Array }> {
    this.checkLayer(layer);
    const [keys, values] = await Promise.all([
      this.kViews[layer]!.data(),
      this.vViews[layer]!.data(),
    ]);
    return { keys: keys as Float32Array, values: values as Float32Array };
  }

  /**
   * Attention over the resident pools: decode (every query has
   * `numQueries = 1`) runs `pagedDecodeAttentionWebGpu`, anything else the
   * chunked-prefill kernel. `q` is `[totalQueries, numHeads, headDim]` on the
   * device; returns a new tensor the caller disposes. Only the block tables
   * and lengths are uploaded.
   */
  attention(
    layer: number,
    q: tf.Tensor3D,
    queries: readonly PagedQuery[],
    options: { readonly scale?: number } = {},
  ): tf.Tensor3D {
    this.checkLayer(layer);
    const { blockSize, numKvHeads, numBlocks } = this.layout;
    const maxBlocks = Math.max(
      1,
      ...queries.map((s) => Math.ceil((s.queryStart + s.numQueries) / blockSize)),
    );
    const padded = new Int32Array(queries.length * maxBlocks).fill(-1);
    queries.forEach((s, i) => {
      const needed = Math.ceil((s.queryStart + s.numQueries) / blockSize);
      if (s.blockTable.length < needed)
        throw new PlexusKvCacheError(
          MODULE,
          `query ${i}'s block table has ${s.blockTable.length} blocks; expected at least ${needed}`,
        );
      for (let b = 0; b < needed; b++) {
        const id = s.blockTable[b]!;
        if (!Number.isInteger(id) || id < 0 || id >= numBlocks)
          throw new PlexusKvCacheError(
            MODULE,
            `query ${i} names block ${id}; expected [0, ${numBlocks})`,
          );
        padded[i * maxBlocks + b] = id;
      }
    });
    const tables = tf.tensor2d(padded, [queries.length, maxBlocks], 'int32');
    const opts = {
      blockSize,
      numKvHeads,
      ...(options.scale === undefined ? {} : { scale: options.scale }),
    };
    try {
      if (queries.every((s) => s.numQueries === 1) && queries.length === q.shape[0]) {
        const lens = tf.tensor1d(
          Int32Array.from(queries, (s) => s.queryStart + 1),
          'int32',
        );
        try {
          return pagedDecodeAttentionWebGpu(
            this.kViews[layer]!,
            this.vViews[layer]!,
            tables,
            lens,
            q,
            opts,
          );
        } finally {
          lens.dispose();
        }
      }
      return pagedPrefillAttentionWebGpu(
        this.kViews[layer]!,
        this.vViews[layer]!,
        tables,
        queries,
        q,
        opts,
      );
    } finally {
      tables.dispose();
    }
  }

  /**
   * Run a swap plan between a device-resident store and a host store of the
   * same layout (swap is the one place K/V cross to the host). Swap-out reads
   * the blocks back, so it is async.
   */
  static async runSwap(
    plan: SwapPlan,
    device: WebGpuKvStorage,
    host: PagedKvStorage,
  ): Promise<void> {
    device.checkSameShape(host, false);
    const len = device.blockLength;
    for (const c of plan.copies) {
      (plan.direction === 'out' ? device : null)?.checkBlock(c.src);
      (plan.direction === 'in' ? device : null)?.checkBlock(c.dst);
    }
    for (let l = 0; l < device.layout.numLayers; l++) {
      for (const [hostArrays, buffer] of [
        [host.keys, device.kBuffers[l]!],
        [host.values, device.vBuffers[l]!],
      ] as const) {
        const hostLayer = hostArrays[l]!;
        const staging =
          plan.direction === 'out'
            ? tf.zeros([Math.max(1, plan.copies.length), len])
            : tf.tensor2d(
                (() => {
                  const data = new Float32Array(Math.max(1, plan.copies.length) * len);
                  plan.copies.forEach((c, i) => {
                    data.set(hostLayer.subarray(c.src * len, (c.src + 1) * len), i * len);
                  });
                  return data;
                })(),
                [Math.max(1, plan.copies.length), len],
              );
        const sb = bufferOf(device.backend, staging);
        plan.copies.forEach((c, i) => {
          if (plan.direction === 'out')
            device.copyBuffer(buffer, c.src * len * 4, sb, i * len * 4, len * 4);
          else device.copyBuffer(sb, i * len * 4, buffer, c.dst * len * 4, len * 4);
        });
        device.backend.commandQueueOwnedIds.add(staging.dataId);
        if (plan.direction === 'out') {
          const data = (await staging.data()) as Float32Array;
          plan.copies.forEach((c, i) => {
            hostLayer.set(data.subarray(i * len, (i + 1) * len), c.dst * len);
          });
        }
        staging.dispose();
      }
    }
  }

  /** Free the device buffers (after the queued work that uses them is submitted). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    tf.dispose([...this.kViews, ...this.vViews]);
    if (this.backend.commandEncoder !== null) this.backend.submitQueue();
    for (const b of [...this.kBuffers, ...this.vBuffers]) b.destroy();
  }

  private scatter(
    layer: number,
    k: tf.Tensor,
    v: tf.Tensor,
    rows: Int32Array,
    rowLength = this.row / this.layout.numKvHeads,
  ): void {
    const rowsT = tf.tensor1d(rows, 'int32');
    scatterRows(this.backend, this.kBuffers[layer]!, this.vBuffers[layer]!, k, v, rowsT, rowLength);
    rowsT.dispose();
  }

  private copyBuffer(
    src: GPUBuffer,
    srcOffset: number,
    dst: GPUBuffer,
    dstOffset: number,
    bytes: number,
  ): void {
    this.backend.ensureCommandEncoderReady();
    this.backend.endComputePassEncoder();
    this.backend.commandEncoder!.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  private checkSameShape(host: PagedKvStorage, sameBlocks = true): void {
    const a = this.layout;
    const b = host.layout;
    if (
      a.numLayers !== b.numLayers ||
      a.blockSize !== b.blockSize ||
      a.numKvHeads !== b.numKvHeads ||
      a.headDim !== b.headDim ||
      (sameBlocks && a.numBlocks !== b.numBlocks)
    )
      throw new PlexusKvCacheError(
        MODULE,
        `host store layout ${JSON.stringify(b)} differs from the device store's ${JSON.stringify(a)}; expected equal layouts`,
      );
  }

  private checkLayer(layer: number): void {
    if (this.disposed)
      throw new PlexusKvCacheError(MODULE, 'the store was disposed; expected a live store');
    if (!Number.isInteger(layer) || layer < 0 || layer >= this.layout.numLayers)
      throw new PlexusKvCacheError(
        MODULE,
        `layer ${layer} is out of range; expected [0, ${this.layout.numLayers})`,
      );
  }

  private checkBlock(b: number): void {
    if (!Number.isInteger(b) || b < 0 || b >= this.layout.numBlocks)
      throw new PlexusKvCacheError(
        MODULE,
        `block ${b} is out of range; expected [0, ${this.layout.numBlocks})`,
      );
  }
}

/**
 * Slot indices (`block * blockSize + offset`) of each run's tokens, in
 * order: the slot mapping {@link WebGpuKvStorage.writeSlots} takes for a
 * batch (e.g. one new token per running sequence in a decode step).
 */
export function slotMapping(
  blockSize: number,
  runs: readonly {
    readonly table: readonly number[];
    readonly startPos: number;
    readonly numTokens: number;
  }[],
): Int32Array {
  const out = new Int32Array(runs.reduce((a, r) => a + r.numTokens, 0));
  let i = 0;
  for (const r of runs)
    for (let t = 0; t < r.numTokens; t++) {
      const p = r.startPos + t;
      const block = r.table[Math.floor(p / blockSize)];
      if (block === undefined)
        throw new PlexusKvCacheError(
          MODULE,
          `position ${p} is past the block table (${r.table.length} blocks of ${blockSize}); expected a table covering every written token`,
        );
      out[i++] = block * blockSize + (p % blockSize);
    }
  return out;
}
