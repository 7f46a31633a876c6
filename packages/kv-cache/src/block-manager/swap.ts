import type { BlockPool } from './block-pool.js';
import type { SequenceRecord } from './sequence.js';

/**
 * Move the sequences' blocks from one pool to the other, rewriting their
 * tables, and return the block copies the engine must run. One destination
 * block per source block, so a block shared inside the group (a fork, a
 * common prefix) stays shared and is copied once. The caller checked that
 * `to` has enough free blocks.
 */
export function moveBlocks(
  records: readonly SequenceRecord[],
  from: BlockPool,
  to: BlockPool,
): { src: number; dst: number }[] {
  const moved = new Map<number, number>();
  const copies: { src: number; dst: number }[] = [];
  for (const record of records) {
    record.table = record.table.map((src) => {
      let dst = moved.get(src);
      if (dst === undefined) {
        dst = to.allocate();
        moved.set(src, dst);
        copies.push({ src, dst });
      } else {
        to.retain(dst);
      }
      from.release(src);
      return dst;
    });
  }
  return copies;
}
