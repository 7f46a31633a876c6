import { PlexusKvCacheError } from '../errors.js';

const MODULE = 'block-manager';

/**
 * Positions one layer keeps: one ascending array for every KV head, or one
 * per KV head (equal lengths: each head's `j`-th kept token goes to slot
 * `j`, so heads may keep different tokens but the same number).
 */
export type KeptPositions = Int32Array | readonly Int32Array[];

/**
 * What {@link BlockManager.compact} did, for the engine to run on its KV
 * store (`PagedKvStorage.compact`, `WebGpuKvStorage.compact`) before anything
 * else allocates: in layer `l`, for head `h`, the token at position
 * `kept[l][h][j]` of `sourceTable` moves to position `j` of `blockTable`.
 */
export interface CompactionPlan {
  /** The table the kept positions refer to (before compaction). */
  readonly sourceTable: readonly number[];
  /** The table after compaction. */
  readonly blockTable: readonly number[];
  /** Per layer, one kept-position array for all heads or one per KV head. */
  readonly kept: readonly (readonly Int32Array[])[];
  /** Tokens cached per layer after compaction. */
  readonly layerLengths: readonly number[];
  /** Device blocks the sequence no longer references. */
  readonly freedBlocks: number;
}

/** Validate kept positions against the layers' current lengths; per-layer head arrays. */
export function normalizeKept(
  id: number,
  kept: readonly KeptPositions[],
  lengths: readonly number[] | undefined,
  tokens: number,
): Int32Array[][] {
  if (kept.length === 0 || (lengths !== undefined && kept.length !== lengths.length))
    throw new PlexusKvCacheError(
      MODULE,
      `compact: sequence ${id} got kept positions for ${kept.length} layers; expected ${lengths === undefined ? 'at least one layer' : `${lengths.length} (its layer count)`}`,
    );
  return kept.map((entry, l) => {
    const heads = entry instanceof Int32Array ? [entry] : [...entry];
    const len = lengths?.[l] ?? tokens;
    if (heads.length === 0 || heads.some((h) => !(h instanceof Int32Array)))
      throw new PlexusKvCacheError(
        MODULE,
        `compact: layer ${l} of sequence ${id} has no kept-position arrays; expected an Int32Array or one per KV head`,
      );
    const n = heads[0]!.length;
    heads.forEach((h, head) => {
      if (h.length !== n)
        throw new PlexusKvCacheError(
          MODULE,
          `compact: layer ${l} head ${head} keeps ${h.length} positions, head 0 keeps ${n}; expected equal counts per layer`,
        );
      if (n < 1)
        throw new PlexusKvCacheError(
          MODULE,
          `compact: layer ${l} of sequence ${id} keeps no position; expected at least one`,
        );
      for (let j = 0; j < n; j++) {
        const p = h[j]!;
        if (p < 0 || p >= len || (j > 0 && p <= h[j - 1]!))
          throw new PlexusKvCacheError(
            MODULE,
            `compact: layer ${l} head ${head} position ${p} at index ${j}; expected strictly ascending positions in [0, ${len})`,
          );
      }
    });
    return heads;
  });
}
