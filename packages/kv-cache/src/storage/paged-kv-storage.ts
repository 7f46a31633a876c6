import type { CompactionPlan } from '../block-manager/compaction.js';
import type { BlockCopy, SwapPlan } from '../block-manager/types.js';
import { PlexusKvCacheError } from '../errors.js';
import { compactionRows } from './compaction-rows.js';
import {
  checkLayout,
  checkWrite,
  type KvLayout,
  type KvTile,
  type PagedKvSource,
} from './layout.js';

const MODULE = 'storage';

/**
 * Float32 paged KV store on host typed arrays: per layer, K and V are
 * `[numBlocks, blockSize, numKvHeads, headDim]`, addressed by the block ids a
 * {@link BlockManager} hands out. Runs copy-on-write copies and swap plans.
 * A host swap pool is just another store with `numBlocks = numHostBlocks`.
 */
export class PagedKvStorage implements PagedKvSource {
  readonly layout: KvLayout;
  /** K per layer. */
  readonly keys: Float32Array[];
  /** V per layer. */
  readonly values: Float32Array[];
  private readonly blockLength: number;
  private readonly tiles = {
    k: { data: new Float32Array(0) as Float32Array, offset: 0, stride: 0 },
    v: { data: new Float32Array(0) as Float32Array, offset: 0, stride: 0 },
  };

  constructor(layout: KvLayout) {
    checkLayout(layout, MODULE);
    this.layout = { ...layout };
    this.blockLength = layout.blockSize * layout.numKvHeads * layout.headDim;
    const size = layout.numBlocks * this.blockLength;
    this.keys = Array.from({ length: layout.numLayers }, () => new Float32Array(size));
    this.values = Array.from({ length: layout.numLayers }, () => new Float32Array(size));
  }

  /** Bytes of K and V over all layers. */
  get byteLength(): number {
    return 2 * this.layout.numLayers * this.layout.numBlocks * this.blockLength * 4;
  }

  /**
   * Write K and V (`[numTokens, numKvHeads, headDim]`, row-major) of tokens at
   * positions `startPos..` of the sequence whose blocks are `table`.
   */
  write(
    layer: number,
    table: readonly number[],
    startPos: number,
    k: Float32Array,
    v: Float32Array,
  ): void {
    const row = this.layout.numKvHeads * this.layout.headDim;
    const n = k.length / row;
    checkWrite(this.layout, MODULE, layer, table, startPos, n, k.length);
    if (v.length !== k.length) checkWrite(this.layout, MODULE, layer, table, startPos, n, v.length);
    const bs = this.layout.blockSize;
    for (let t = 0; t < n; t++) {
      const p = startPos + t;
      const dst = table[Math.floor(p / bs)]! * this.blockLength + (p % bs) * row;
      this.keys[layer]!.set(k.subarray(t * row, (t + 1) * row), dst);
      this.values[layer]!.set(v.subarray(t * row, (t + 1) * row), dst);
    }
  }

  tile(which: 'k' | 'v', layer: number, block: number, kvHead: number): KvTile {
    const tile = this.tiles[which];
    tile.data = (which === 'k' ? this.keys : this.values)[layer]!;
    tile.offset = block * this.blockLength + kvHead * this.layout.headDim;
    tile.stride = this.layout.numKvHeads * this.layout.headDim;
    return tile;
  }

  /** Run copy-on-write copies (first `numTokens` slots, every layer). */
  copyBlocks(copies: readonly BlockCopy[]): void {
    const row = this.layout.numKvHeads * this.layout.headDim;
    for (const c of copies) {
      this.checkBlock(c.src);
      this.checkBlock(c.dst);
      const len = c.numTokens * row;
      for (const arrays of [this.keys, this.values])
        for (const a of arrays)
          a.copyWithin(
            c.dst * this.blockLength,
            c.src * this.blockLength,
            c.src * this.blockLength + len,
          );
    }
  }

  /** Run a compaction plan (`BlockManager.compact`): move each layer's kept tokens to the front. */
  compact(plan: CompactionPlan): void {
    const d = this.layout.headDim;
    for (let l = 0; l < this.layout.numLayers; l++) {
      const { src, dst } = compactionRows(plan, this.layout, l, MODULE);
      for (const a of [this.keys[l]!, this.values[l]!])
        for (let i = 0; i < src.length; i++)
          if (src[i] !== dst[i]) a.copyWithin(dst[i]! * d, src[i]! * d, (src[i]! + 1) * d);
    }
  }

  /** Run a swap plan between a device store and a host store of the same shape. */
  static runSwap(plan: SwapPlan, device: PagedKvStorage, host: PagedKvStorage): void {
    const [from, to] = plan.direction === 'out' ? [device, host] : [host, device];
    if (from.blockLength !== to.blockLength || from.layout.numLayers !== to.layout.numLayers)
      throw new PlexusKvCacheError(
        MODULE,
        'device and host stores differ in shape; expected equal layouts',
      );
    const len = from.blockLength;
    for (const c of plan.copies) {
      from.checkBlock(c.src);
      to.checkBlock(c.dst);
      for (let l = 0; l < from.layout.numLayers; l++) {
        to.keys[l]!.set(from.keys[l]!.subarray(c.src * len, (c.src + 1) * len), c.dst * len);
        to.values[l]!.set(from.values[l]!.subarray(c.src * len, (c.src + 1) * len), c.dst * len);
      }
    }
  }

  private checkBlock(b: number): void {
    if (!Number.isInteger(b) || b < 0 || b >= this.layout.numBlocks)
      throw new PlexusKvCacheError(
        MODULE,
        `block ${b} is out of range; expected [0, ${this.layout.numBlocks})`,
      );
  }
}
