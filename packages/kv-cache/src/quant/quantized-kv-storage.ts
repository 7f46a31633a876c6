import type { BlockCopy, SwapPlan } from '../block-manager/types.js';
import { PlexusKvCacheError } from '../errors.js';
import {
  checkLayout,
  checkWrite,
  type KvLayout,
  type KvTile,
  type PagedKvSource,
} from '../storage/layout.js';
import { checkGrouping, dequantizeRow, type KvBits, quantizeRow } from './group-quant.js';

const MODULE = 'quantize';

/** Options of {@link QuantizedKvStorage}. */
export interface QuantizedKvOptions {
  /** 8 (int8 codes) or 4 (two int4 codes per byte). */
  readonly bits: KvBits;
  /** Values per scale along `headDim`. Default 32 (or `headDim` if smaller). */
  readonly groupSize?: number;
}

/**
 * Paged KV store holding int8 or int4 codes with one float32 scale per
 * `groupSize` values of each token's head vector. Paged attention reads it
 * through {@link tile}, which dequantises one block of one KV head at a time
 * into a small scratch tile: the dense cache is never materialised. Memory
 * per value: 1 or 0.5 byte plus `4 / groupSize` bytes of scale.
 */
export class QuantizedKvStorage implements PagedKvSource {
  readonly layout: KvLayout;
  readonly bits: KvBits;
  readonly groupSize: number;
  private readonly codes: { k: (Int8Array | Uint8Array)[]; v: (Int8Array | Uint8Array)[] };
  private readonly scales: { k: Float32Array[]; v: Float32Array[] };
  private readonly rowValues: number;
  private readonly tiles: { k: KvTile; v: KvTile };

  constructor(layout: KvLayout, options: QuantizedKvOptions) {
    checkLayout(layout, MODULE);
    const groupSize = options.groupSize ?? Math.min(32, layout.headDim);
    checkGrouping(options.bits, layout.headDim, groupSize, MODULE);
    this.layout = { ...layout };
    this.bits = options.bits;
    this.groupSize = groupSize;
    this.rowValues = layout.numKvHeads * layout.headDim;
    const values = layout.numBlocks * layout.blockSize * this.rowValues;
    const codes = (): Int8Array | Uint8Array =>
      options.bits === 8 ? new Int8Array(values) : new Uint8Array(values / 2);
    const perLayer = <T>(make: () => T): T[] => Array.from({ length: layout.numLayers }, make);
    this.codes = { k: perLayer(codes), v: perLayer(codes) };
    const scales = (): Float32Array => new Float32Array(values / groupSize);
    this.scales = { k: perLayer(scales), v: perLayer(scales) };
    const tile = (): KvTile => ({
      data: new Float32Array(layout.blockSize * layout.headDim),
      offset: 0,
      stride: layout.headDim,
    });
    this.tiles = { k: tile(), v: tile() };
  }

  /** Bytes of codes and scales over all layers. */
  get byteLength(): number {
    let total = 0;
    for (const which of ['k', 'v'] as const)
      for (let l = 0; l < this.layout.numLayers; l++)
        total += this.codes[which][l]!.byteLength + this.scales[which][l]!.byteLength;
    return total;
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
    for (let t = 0; t < n; t++) {
      const p = startPos + t;
      const at = (table[Math.floor(p / bs)]! * bs + (p % bs)) * this.rowValues;
      for (const [which, src] of [
        ['k', k],
        ['v', v],
      ] as const) {
        quantizeRow(
          this.bits,
          this.groupSize,
          src,
          t * this.rowValues,
          this.rowValues,
          this.codes[which][layer]!,
          at,
          this.scales[which][layer]!,
          at / this.groupSize,
        );
      }
    }
  }

  tile(which: 'k' | 'v', layer: number, block: number, kvHead: number, numTokens: number): KvTile {
    const tile = this.tiles[which];
    const d = this.layout.headDim;
    for (let t = 0; t < numTokens; t++) {
      const at = (block * this.layout.blockSize + t) * this.rowValues + kvHead * d;
      dequantizeRow(
        this.bits,
        this.groupSize,
        this.codes[which][layer]!,
        at,
        this.scales[which][layer]!,
        at / this.groupSize,
        d,
        tile.data,
        t * d,
      );
    }
    return tile;
  }

  /** Dequantised K or V of the first `numTokens` positions of `table` (tests, debugging). */
  readDense(
    which: 'k' | 'v',
    layer: number,
    table: readonly number[],
    numTokens: number,
  ): Float32Array {
    const { blockSize: bs, numKvHeads: kvH, headDim: d } = this.layout;
    const out = new Float32Array(numTokens * this.rowValues);
    for (let p = 0; p < numTokens; p++)
      for (let h = 0; h < kvH; h++) {
        const tile = this.tile(which, layer, table[Math.floor(p / bs)]!, h, bs);
        out.set(tile.data.subarray((p % bs) * d, ((p % bs) + 1) * d), (p * kvH + h) * d);
      }
    return out;
  }

  /** Run copy-on-write copies (first `numTokens` slots, every layer). */
  copyBlocks(copies: readonly BlockCopy[]): void {
    for (const c of copies) this.copyBlock(this, c.src, c.dst, c.numTokens);
  }

  /** Run a swap plan between a device store and a host store of the same shape and format. */
  static runSwap(plan: SwapPlan, device: QuantizedKvStorage, host: QuantizedKvStorage): void {
    if (
      device.bits !== host.bits ||
      device.groupSize !== host.groupSize ||
      device.rowValues !== host.rowValues ||
      device.layout.blockSize !== host.layout.blockSize ||
      device.layout.numLayers !== host.layout.numLayers
    )
      throw new PlexusKvCacheError(
        MODULE,
        'device and host stores differ in shape or format; expected equal',
      );
    const [from, to] = plan.direction === 'out' ? [device, host] : [host, device];
    for (const c of plan.copies) from.copyBlock(to, c.src, c.dst, from.layout.blockSize);
  }

  private copyBlock(to: QuantizedKvStorage, src: number, dst: number, numTokens: number): void {
    for (const [store, b] of [
      [this, src],
      [to, dst],
    ] as const)
      if (!Number.isInteger(b) || b < 0 || b >= store.layout.numBlocks)
        throw new PlexusKvCacheError(
          MODULE,
          `block ${b} is out of range; expected [0, ${store.layout.numBlocks})`,
        );
    const bs = this.layout.blockSize;
    const values = numTokens * this.rowValues;
    const codeScale = this.bits === 8 ? 1 : 0.5;
    for (const which of ['k', 'v'] as const)
      for (let l = 0; l < this.layout.numLayers; l++) {
        const s = src * bs * this.rowValues;
        const d = dst * bs * this.rowValues;
        to.codes[which][l]!.set(
          this.codes[which][l]!.subarray(s * codeScale, (s + values) * codeScale),
          d * codeScale,
        );
        to.scales[which][l]!.set(
          this.scales[which][l]!.subarray(s / this.groupSize, (s + values) / this.groupSize),
          d / this.groupSize,
        );
      }
  }
}
