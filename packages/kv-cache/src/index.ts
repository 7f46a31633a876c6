export type { BlockManagerOptions } from './block-manager/block-manager.js';
export { BlockManager } from './block-manager/block-manager.js';
export { BlockPool } from './block-manager/block-pool.js';
export type {
  AddSequenceResult,
  Admission,
  AppendResult,
  BlockCopy,
  BlockSize,
  KvCacheStats,
  KvCacheV1,
  SequenceId,
  SequenceOptions,
  SequenceStatus,
  SwapPlan,
} from './block-manager/types.js';
export { PlexusKvCacheError } from './errors.js';
export type { BlockHash } from './prefix/block-hash.js';
export { chainedBlockHash, saltHash } from './prefix/block-hash.js';
export type {
  PrefixMatch,
  RadixNode,
  RadixTreeOptions,
  RadixTreeStats,
} from './prefix/radix-tree.js';
export { RadixTree } from './prefix/radix-tree.js';
