import { PlexusKvCacheError } from '../errors.js';

/** Shape of a paged KV store: per layer, K and V are `[numBlocks, blockSize, numKvHeads, headDim]`. */
export interface KvLayout {
  readonly numLayers: number;
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly numKvHeads: number;
  readonly headDim: number;
}

/**
 * A reusable view of one block's rows for one KV head: row `t` of the tile
 * starts at `data[offset + t * stride]` and holds `headDim` floats. Stores
 * hand the same object back on every call so the attention loop allocates
 * nothing.
 */
export interface KvTile {
  data: Float32Array;
  offset: number;
  stride: number;
}

/** What paged attention needs from a store: float tiles, however they are kept. */
export interface PagedKvSource {
  readonly layout: KvLayout;
  /** Tile of the first `numTokens` rows of `block` for `kvHead` in `layer`'s K (`'k'`) or V (`'v'`). */
  tile(which: 'k' | 'v', layer: number, block: number, kvHead: number, numTokens: number): KvTile;
}

/** Throw unless every field of the layout is a positive integer. */
export function checkLayout(layout: KvLayout, module: string): void {
  for (const field of ['numLayers', 'numBlocks', 'blockSize', 'numKvHeads', 'headDim'] as const) {
    const v = layout[field];
    if (!Number.isInteger(v) || v < 1)
      throw new PlexusKvCacheError(module, `${field} is ${v}; expected a positive integer`);
  }
}

/** Throw unless `layer` and the blocks of `table` are in range and `table` covers `endPos` tokens. */
export function checkWrite(
  layout: KvLayout,
  module: string,
  layer: number,
  table: readonly number[],
  startPos: number,
  numTokens: number,
  length: number,
): void {
  if (!Number.isInteger(layer) || layer < 0 || layer >= layout.numLayers)
    throw new PlexusKvCacheError(
      module,
      `layer ${layer} is out of range; expected [0, ${layout.numLayers})`,
    );
  const row = layout.numKvHeads * layout.headDim;
  if (!Number.isInteger(numTokens) || length !== numTokens * row)
    throw new PlexusKvCacheError(
      module,
      `K/V data has ${length} values; expected a multiple of numKvHeads * headDim = ${row}, equal for K and V`,
    );
  const needed = Math.ceil((startPos + numTokens) / layout.blockSize);
  if (table.length < needed)
    throw new PlexusKvCacheError(
      module,
      `block table has ${table.length} blocks; expected at least ${needed} for positions up to ${startPos + numTokens}`,
    );
  for (let i = Math.floor(startPos / layout.blockSize); i < needed; i++) {
    const b = table[i]!;
    if (!Number.isInteger(b) || b < 0 || b >= layout.numBlocks)
      throw new PlexusKvCacheError(
        module,
        `block ${b} is out of range; expected [0, ${layout.numBlocks})`,
      );
  }
}
