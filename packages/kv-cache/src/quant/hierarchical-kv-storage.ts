import type { BlockCopy } from '../block-manager/types.js';
import { PlexusKvCacheError } from '../errors.js';
import {
  checkLayout,
  checkWrite,
  type KvLayout,
  type KvTile,
  type PagedKvSource,
} from '../storage/layout.js';
import { checkGrouping, nextFloat32Up } from './group-quant.js';

const MODULE = 'quantize';

/** Which precision a {@link HierarchicalKvStorage} view reads. */
export type HierarchicalView = 'draft' | 'target';

/**
 * QuantSpec's hierarchical KV layout ("QuantSpec: Self-Speculative Decoding
 * with Hierarchical Quantized KV Cache", 2025): each value's symmetric 8-bit
 * code `c` (one scale per group, `|x − c·s| ≤ s/2`, `s = max|x| / 127`) is
 * stored as two 4-bit planes, upper `(c + 128) >> 4` and lower
 * `(c + 128) & 15`. The draft model reads only the upper plane (half the
 * bytes; error at most `8.5·s`, like int4), the target reads both (int8
 * precision). {@link draft} and {@link target} are the two paged sources.
 */
export class HierarchicalKvStorage {
  readonly layout: KvLayout;
  readonly groupSize: number;
  /** Upper-plane-only source for the draft model. */
  readonly draft: PagedKvSource;
  /** Upper + lower source for the target model. */
  readonly target: PagedKvSource;
  private readonly upper: { k: Uint8Array[]; v: Uint8Array[] };
  private readonly lower: { k: Uint8Array[]; v: Uint8Array[] };
  private readonly scales: { k: Float32Array[]; v: Float32Array[] };
  private readonly rowValues: number;

  constructor(layout: KvLayout, options: { groupSize?: number } = {}) {
    checkLayout(layout, MODULE);
    const groupSize = options.groupSize ?? Math.min(32, layout.headDim);
    checkGrouping(4, layout.headDim, groupSize, MODULE);
    this.layout = { ...layout };
    this.groupSize = groupSize;
    this.rowValues = layout.numKvHeads * layout.headDim;
    const values = layout.numBlocks * layout.blockSize * this.rowValues;
    const perLayer = <T>(make: () => T): T[] => Array.from({ length: layout.numLayers }, make);
    const plane = (): Uint8Array => new Uint8Array(values / 2);
    this.upper = { k: perLayer(plane), v: perLayer(plane) };
    this.lower = { k: perLayer(plane), v: perLayer(plane) };
    const scales = (): Float32Array => new Float32Array(values / groupSize);
    this.scales = { k: perLayer(scales), v: perLayer(scales) };
    this.draft = this.source('draft');
    this.target = this.source('target');
  }

  /** Bytes each view reads per value: draft 0.5 + scale share, target 1 + scale share. */
  bytesPerValue(view: HierarchicalView): number {
    return (view === 'draft' ? 0.5 : 1) + 4 / this.groupSize;
  }

  /** Quantise and write K/V `[numTokens, numKvHeads, headDim]` at positions `startPos..`. */
  write(
    layer: number,
    table: readonly number[],
    startPos: number,
    k: Float32Array,
    v: Float32Array,
  ): void {
    const n = k.length / this.rowValues;
    checkWrite(this.layout, MODULE, layer, table, startPos, n, k.length);
    if (v.length !== k.length) checkWrite(this.layout, MODULE, layer, table, startPos, n, v.length);
    const bs = this.layout.blockSize;
    const g = this.groupSize;
    for (const [which, src] of [
      ['k', k],
      ['v', v],
    ] as const) {
      const up = this.upper[which][layer]!;
      const lo = this.lower[which][layer]!;
      const sc = this.scales[which][layer]!;
      for (let t = 0; t < n; t++) {
        const p = startPos + t;
        const at = (table[Math.floor(p / bs)]! * bs + (p % bs)) * this.rowValues;
        for (let group = 0; group < this.rowValues / g; group++) {
          const base = t * this.rowValues + group * g;
          let maxAbs = 0;
          for (let i = 0; i < g; i++) maxAbs = Math.max(maxAbs, Math.abs(src[base + i]!));
          let scale = Math.fround(maxAbs / 127);
          if (scale * 127 < maxAbs) scale = nextFloat32Up(scale);
          sc[(at + group * g) / g] = scale;
          const inv = scale > 0 ? 1 / scale : 0;
          for (let i = 0; i < g; i++) {
            const c = Math.max(-127, Math.min(127, Math.round(src[base + i]! * inv))) + 128;
            const idx = at + group * g + i;
            const byte = idx >> 1;
            const shift = idx & 1 ? 4 : 0;
            up[byte] = (up[byte]! & ~(0x0f << shift)) | ((c >> 4) << shift);
            lo[byte] = (lo[byte]! & ~(0x0f << shift)) | ((c & 15) << shift);
          }
        }
      }
    }
  }

  /** Run copy-on-write copies (first `numTokens` slots, every layer, both planes). */
  copyBlocks(copies: readonly BlockCopy[]): void {
    const bs = this.layout.blockSize;
    for (const c of copies) {
      for (const b of [c.src, c.dst])
        if (!Number.isInteger(b) || b < 0 || b >= this.layout.numBlocks)
          throw new PlexusKvCacheError(
            MODULE,
            `block ${b} is out of range; expected [0, ${this.layout.numBlocks})`,
          );
      const s = c.src * bs * this.rowValues;
      const d = c.dst * bs * this.rowValues;
      const len = c.numTokens * this.rowValues;
      for (const which of ['k', 'v'] as const)
        for (let l = 0; l < this.layout.numLayers; l++) {
          for (const plane of [this.upper[which][l]!, this.lower[which][l]!])
            plane.copyWithin(d / 2, s / 2, (s + len) / 2);
          this.scales[which][l]!.copyWithin(
            d / this.groupSize,
            s / this.groupSize,
            (s + len) / this.groupSize,
          );
        }
    }
  }

  private source(view: HierarchicalView): PagedKvSource {
    const { blockSize, headDim: d } = this.layout;
    const tiles = {
      k: { data: new Float32Array(blockSize * d) as Float32Array, offset: 0, stride: d },
      v: { data: new Float32Array(blockSize * d) as Float32Array, offset: 0, stride: d },
    };
    const g = this.groupSize;
    return {
      layout: this.layout,
      tile: (which, layer, block, kvHead, numTokens): KvTile => {
        const tile = tiles[which];
        const up = this.upper[which][layer]!;
        const lo = this.lower[which][layer]!;
        const sc = this.scales[which][layer]!;
        for (let t = 0; t < numTokens; t++) {
          const at = (block * blockSize + t) * this.rowValues + kvHead * d;
          for (let i = 0; i < d; i++) {
            const idx = at + i;
            const shift = idx & 1 ? 4 : 0;
            const hi = (up[idx >> 1]! >> shift) & 15;
            // Draft: the upper nibble's bucket midpoint; target: the exact 8-bit code.
            const c =
              view === 'draft' ? (hi << 4) + 8 : (hi << 4) | ((lo[idx >> 1]! >> shift) & 15);
            tile.data[t * d + i] = (c - 128) * sc[Math.floor(idx / g)]!;
          }
        }
        return tile;
      },
    };
  }
}
