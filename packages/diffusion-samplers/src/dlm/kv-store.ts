import { BlockManager, PagedKvStorage } from '@plexus/kv-cache';
import * as tf from '@tensorflow/tfjs-core';
import type { DlmKv } from './types.js';

/** Shape of a {@link DlmKvStore}. */
export interface DlmKvStoreOptions {
  readonly batch: number;
  readonly length: number;
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  /** Tokens per block of the paged pool: 8, 16 or 32 (default 16). */
  readonly blockSize?: 8 | 16 | 32;
}

/**
 * The approximate K/V cache of a diffusion-LM decode, kept in
 * `@plexus/kv-cache`: a {@link BlockManager} hands each batch row a block
 * table for the whole sequence, a {@link PagedKvStorage} holds the float32
 * K/V. Unlike an autoregressive cache, positions are written and read in any
 * order (a masked language model attends bidirectionally, so the causal
 * paged-attention kernel does not apply); each (row, position) carries a
 * "cached" flag the decoders consult.
 */
export class DlmKvStore {
  readonly batch: number;
  readonly length: number;
  private readonly manager: BlockManager;
  private readonly storage: PagedKvStorage;
  private readonly tables: number[][] = [];
  private readonly flags: Uint8Array;
  private readonly row: number;
  private readonly blockSize: number;
  private readonly layers: number;
  private readonly heads: number;
  private readonly dim: number;

  constructor(options: DlmKvStoreOptions) {
    const blockSize = options.blockSize ?? 16;
    this.batch = options.batch;
    this.length = options.length;
    this.blockSize = blockSize;
    this.layers = options.numLayers;
    this.heads = options.numKvHeads;
    this.dim = options.headDim;
    this.row = this.heads * this.dim;
    const perRow = Math.ceil(options.length / blockSize);
    const numBlocks = options.batch * perRow;
    this.manager = new BlockManager({
      numBlocks,
      blockSize,
      watermark: 0,
      enablePrefixCaching: false,
    });
    this.storage = new PagedKvStorage({
      numLayers: options.numLayers,
      numBlocks,
      blockSize,
      numKvHeads: options.numKvHeads,
      headDim: options.headDim,
    });
    // The manager only allocates; the token ids it sees are placeholders.
    const placeholder = new Array<number>(options.length).fill(0);
    for (let b = 0; b < options.batch; b++)
      this.tables.push(this.manager.addSequence(b, placeholder).blockTable.slice());
    this.flags = new Uint8Array(options.batch * options.length);
  }

  /** Whether row `b` has K/V cached at `position`. */
  isCached(b: number, position: number): boolean {
    return this.flags[b * this.length + position] === 1;
  }

  /** Positions cached in every row, ascending. */
  cachedEverywhere(): number[] {
    const out: number[] = [];
    for (let p = 0; p < this.length; p++) {
      let all = true;
      for (let b = 0; b < this.batch && all; b++) all = this.isCached(b, p);
      if (all) out.push(p);
    }
    return out;
  }

  /** Forget every cached position (the pool is kept). */
  clear(): void {
    this.flags.fill(0);
  }

  /**
   * Store the K/V (`[batch, n, kvHeads, headDim]` per layer) of `positions`;
   * with `keep`, only the (row, position) pairs it accepts. Reads the
   * tensors to the host; does not dispose them.
   */
  write(kv: DlmKv, positions: readonly number[], keep?: (b: number, p: number) => boolean): void {
    const n = positions.length;
    for (let l = 0; l < this.layers; l++) {
      const k = kv.keys[l]!.dataSync() as Float32Array;
      const v = kv.values[l]!.dataSync() as Float32Array;
      for (let b = 0; b < this.batch; b++) {
        const table = this.tables[b]!;
        for (let i = 0; i < n; i++) {
          const p = positions[i]!;
          if (keep !== undefined && !keep(b, p)) continue;
          const src = (b * n + i) * this.row;
          this.storage.write(
            l,
            table,
            p,
            k.subarray(src, src + this.row),
            v.subarray(src, src + this.row),
          );
          if (l === 0) this.flags[b * this.length + p] = 1;
        }
      }
    }
  }

  /** The stored K/V of `positions` as new tensors `[batch, m, kvHeads, headDim]` per layer. */
  gather(positions: readonly number[]): { keys: tf.Tensor4D[]; values: tf.Tensor4D[] } {
    const m = positions.length;
    const keys: tf.Tensor4D[] = [];
    const values: tf.Tensor4D[] = [];
    const bs = this.blockSize;
    for (let l = 0; l < this.layers; l++) {
      const k = new Float32Array(this.batch * m * this.row);
      const v = new Float32Array(this.batch * m * this.row);
      for (let b = 0; b < this.batch; b++) {
        const table = this.tables[b]!;
        for (let i = 0; i < m; i++) {
          const p = positions[i]!;
          const block = table[Math.floor(p / bs)]!;
          for (let h = 0; h < this.heads; h++) {
            const dst = (b * m + i) * this.row + h * this.dim;
            const kt = this.storage.tile('k', l, block, h);
            const ko = kt.offset + (p % bs) * kt.stride;
            k.set(kt.data.subarray(ko, ko + this.dim), dst);
            const vt = this.storage.tile('v', l, block, h);
            const vo = vt.offset + (p % bs) * vt.stride;
            v.set(vt.data.subarray(vo, vo + this.dim), dst);
          }
        }
      }
      const shape: [number, number, number, number] = [this.batch, m, this.heads, this.dim];
      keys.push(tf.tensor4d(k, shape));
      values.push(tf.tensor4d(v, shape));
    }
    return { keys, values };
  }

  /** Return the blocks to the pool. */
  dispose(): void {
    for (let b = 0; b < this.batch; b++) this.manager.free(b);
  }
}
