import { type BlockHash, chainedBlockHash, saltHash } from '../prefix/block-hash.js';
import type { SequenceStatus } from './types.js';

/** Book-keeping of one live sequence (internal). */
export interface SequenceRecord {
  status: SequenceStatus;
  readonly tokens: number[];
  /** Device block ids when running, host block ids when swapped. */
  table: number[];
  /** Chained key of every full block, in order. */
  readonly keys: BlockHash[];
  readonly salt: BlockHash;
  /**
   * Tokens cached per layer once an eviction policy's choice was applied
   * (`BlockManager.compact`); absent while every layer caches every token.
   * A compacted sequence's blocks no longer hold its prefix, so it has no
   * block keys.
   */
  layerLengths?: number[];
}

/** Token slots the sequence's table must cover: its longest layer. */
export function kvLength(record: SequenceRecord): number {
  return record.layerLengths === undefined
    ? record.tokens.length
    : Math.max(...record.layerLengths);
}

/** Keys of the full blocks of `tokens`, continuing from `keys` already known. */
export function extendKeys(
  keys: BlockHash[],
  salt: BlockHash,
  tokens: ArrayLike<number>,
  blockSize: number,
): BlockHash[] {
  const full = Math.floor(tokens.length / blockSize);
  for (let i = keys.length; i < full; i++) {
    const parent = i === 0 ? salt : keys[i - 1]!;
    keys.push(chainedBlockHash(parent, salt, tokens, i * blockSize, blockSize));
  }
  return keys;
}

/** A fresh record for a prompt. */
export function newRecord(
  tokens: ArrayLike<number>,
  salt: string,
  blockSize: number,
): SequenceRecord {
  const saltKey = saltHash(salt);
  const copy = Array.from(tokens);
  return {
    status: 'running',
    tokens: copy,
    table: [],
    keys: extendKeys([], saltKey, copy, blockSize),
    salt: saltKey,
  };
}
