import { PlexusKvCacheError } from '../errors.js';
import type { PagedKvStorage } from '../storage/paged-kv-storage.js';
import { crc32 } from './crc32.js';

const MODULE = 'transfer';
const MAGIC = 0x31564b50; // 'PKV1' little-endian
const VERSION = 1;
const HEADER_WORDS = 8;
const HEADER_BYTES = HEADER_WORDS * 4;

/** A sequence's KV as one contiguous buffer, and what producing it cost. */
export interface KvTransfer {
  /** Header (magic, version, layout, token count, CRC-32) then, per layer, K then V rows. */
  readonly buffer: Uint8Array;
  /** Array copies made: one per run of consecutive block ids, per layer, per K and V. */
  readonly copyCalls: number;
  /** Copies a block-by-block transfer would make (blocks × layers × 2). */
  readonly perBlockCopyCalls: number;
}

/**
 * Runs of consecutive block ids covering the first `numTokens` positions, as
 * `[firstPosition, firstBlock, numTokens]`; the block size may differ between
 * exporter and importer because the payload is position-major.
 */
function runs(
  table: readonly number[],
  numTokens: number,
  blockSize: number,
): [number, number, number][] {
  const out: [number, number, number][] = []; // [position, block, tokens]
  for (let p = 0; p < numTokens; p += blockSize) {
    const block = table[p / blockSize]!;
    const tokens = Math.min(blockSize, numTokens - p);
    const last = out.at(-1);
    if (last !== undefined && last[1] + last[2] / blockSize === block && last[2] % blockSize === 0)
      last[2] += tokens;
    else out.push([p, block, tokens]);
  }
  return out;
}

function checkTable(storage: PagedKvStorage, table: readonly number[], numTokens: number): void {
  const { blockSize, numBlocks } = storage.layout;
  if (
    !Number.isInteger(numTokens) ||
    numTokens < 1 ||
    table.length < Math.ceil(numTokens / blockSize)
  )
    throw new PlexusKvCacheError(
      MODULE,
      `${numTokens} tokens need ${Math.ceil(numTokens / blockSize)} blocks, the table has ${table.length}; expected a covering table`,
    );
  for (const b of table.slice(0, Math.ceil(numTokens / blockSize)))
    if (!Number.isInteger(b) || b < 0 || b >= numBlocks)
      throw new PlexusKvCacheError(
        MODULE,
        `block ${b} is out of range; expected [0, ${numBlocks})`,
      );
}

/**
 * Export the first `numTokens` positions of a sequence (FlowKV-style, for
 * disaggregated prefill → decode): one contiguous, CRC-checked buffer. Runs
 * of consecutive block ids are copied with one call each, so a sequence
 * whose blocks are contiguous costs one copy per layer per K and V.
 */
export function exportSequence(
  storage: PagedKvStorage,
  table: readonly number[],
  numTokens: number,
): KvTransfer {
  checkTable(storage, table, numTokens);
  const { numLayers, blockSize, numKvHeads, headDim } = storage.layout;
  const row = numKvHeads * headDim;
  const payload = new Float32Array(2 * numLayers * numTokens * row);
  const rs = runs(table, numTokens, blockSize);
  let copyCalls = 0;
  for (let l = 0; l < numLayers; l++)
    for (const [which, arrays] of [
      [0, storage.keys],
      [1, storage.values],
    ] as const) {
      const base = (2 * l + which) * numTokens * row;
      for (const [pos, block, tokens] of rs) {
        const src = block * blockSize * row;
        payload.set(arrays[l]!.subarray(src, src + tokens * row), base + pos * row);
        copyCalls++;
      }
    }
  const bytes = new Uint8Array(payload.buffer);
  const buffer = new Uint8Array(HEADER_BYTES + bytes.length);
  const header = new DataView(buffer.buffer);
  const words = [
    MAGIC,
    VERSION,
    numLayers,
    blockSize,
    numKvHeads,
    headDim,
    numTokens,
    crc32(bytes),
  ];
  for (let i = 0; i < words.length; i++) header.setUint32(4 * i, words[i]!, true);
  buffer.set(bytes, HEADER_BYTES);
  const blocks = Math.ceil(numTokens / blockSize);
  return { buffer, copyCalls, perBlockCopyCalls: blocks * numLayers * 2 };
}

/**
 * Import a buffer from {@link exportSequence} into `storage` at the blocks of
 * `table` (allocated by the receiving block manager). Rejects, before writing
 * anything, a buffer with the wrong magic or version, another layout, a wrong
 * length or a CRC mismatch. Returns the number of copy calls made.
 */
export function importSequence(
  buffer: Uint8Array,
  storage: PagedKvStorage,
  table: readonly number[],
): { numTokens: number; copyCalls: number } {
  if (buffer.length < HEADER_BYTES)
    throw new PlexusKvCacheError(
      MODULE,
      `buffer has ${buffer.length} bytes; expected at least a ${HEADER_BYTES}-byte header`,
    );
  const header = new DataView(buffer.buffer, buffer.byteOffset, HEADER_BYTES);
  const word = (i: number): number => header.getUint32(4 * i, true);
  if (word(0) !== MAGIC || word(1) !== VERSION)
    throw new PlexusKvCacheError(
      MODULE,
      `buffer is not a version-${VERSION} KV transfer (bad magic or version)`,
    );
  const { numLayers, blockSize, numKvHeads, headDim } = storage.layout;
  if (word(2) !== numLayers || word(4) !== numKvHeads || word(5) !== headDim)
    throw new PlexusKvCacheError(
      MODULE,
      `buffer holds ${word(2)} layers × ${word(4)} KV heads × dim ${word(5)}; expected ${numLayers} × ${numKvHeads} × ${headDim}`,
    );
  const numTokens = word(6);
  const row = numKvHeads * headDim;
  const expected = HEADER_BYTES + 2 * numLayers * numTokens * row * 4;
  if (buffer.length !== expected)
    throw new PlexusKvCacheError(
      MODULE,
      `buffer has ${buffer.length} bytes; expected ${expected} for ${numTokens} tokens`,
    );
  // Copy so the payload is 4-byte aligned whatever the caller's offset.
  const bytes = buffer.slice(HEADER_BYTES);
  if (crc32(bytes) !== word(7))
    throw new PlexusKvCacheError(
      MODULE,
      'checksum mismatch: the buffer is corrupted; expected the exported bytes',
    );
  checkTable(storage, table, numTokens);
  const payload = new Float32Array(bytes.buffer);
  let copyCalls = 0;
  const rs = runs(table, numTokens, blockSize);
  for (let l = 0; l < numLayers; l++)
    for (const [which, arrays] of [
      [0, storage.keys],
      [1, storage.values],
    ] as const) {
      const base = (2 * l + which) * numTokens * row;
      for (const [pos, block, tokens] of rs) {
        arrays[l]!.set(
          payload.subarray(base + pos * row, base + (pos + tokens) * row),
          block * blockSize * row,
        );
        copyCalls++;
      }
    }
  return { numTokens, copyCalls };
}
