import type { CompactionPlan } from '../block-manager/compaction.js';
import { PlexusKvCacheError } from '../errors.js';
import type { KvLayout } from './layout.js';

/**
 * A compaction plan's moves in `layer` as head rows (`slot * numKvHeads +
 * head`, each `headDim` values): `src[i]` goes to `dst[i]`. Within a head the
 * moves are in ascending kept order, and `kept[j] >= j`, so running them one
 * after another in this order never overwrites a row still to be read.
 */
export function compactionRows(
  plan: CompactionPlan,
  layout: KvLayout,
  layer: number,
  module: string,
): { src: number[]; dst: number[] } {
  const { blockSize: bs, numKvHeads: kvH, numBlocks } = layout;
  const heads = plan.kept[layer];
  if (plan.kept.length !== layout.numLayers || heads === undefined)
    throw new PlexusKvCacheError(
      module,
      `the plan has ${plan.kept.length} layers; expected the store's ${layout.numLayers}`,
    );
  if (heads.length !== 1 && heads.length !== kvH)
    throw new PlexusKvCacheError(
      module,
      `layer ${layer} has ${heads.length} kept-position arrays; expected 1 (all heads) or numKvHeads = ${kvH}`,
    );
  const block = (table: readonly number[], p: number): number => {
    const b = table[Math.floor(p / bs)];
    if (b === undefined || !Number.isInteger(b) || b < 0 || b >= numBlocks)
      throw new PlexusKvCacheError(
        module,
        `position ${p} maps to block ${b}; expected a block in [0, ${numBlocks})`,
      );
    return b;
  };
  const src: number[] = [];
  const dst: number[] = [];
  for (let h = 0; h < kvH; h++) {
    const kept = heads[heads.length === 1 ? 0 : h]!;
    for (let j = 0; j < kept.length; j++) {
      const p = kept[j]!;
      src.push((block(plan.sourceTable, p) * bs + (p % bs)) * kvH + h);
      dst.push((block(plan.blockTable, j) * bs + (j % bs)) * kvH + h);
    }
  }
  return { src, dst };
}
