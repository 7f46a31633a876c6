export { denseAttention } from './attention/dense-attention.js';
export type { PagedAttentionOptions, PagedQuery } from './attention/paged-attention.js';
export { pagedAttention } from './attention/paged-attention.js';
export { pagedAttentionTensor } from './attention/paged-attention-tensor.js';
export type { BlockManagerOptions } from './block-manager/block-manager.js';
export { BlockManager } from './block-manager/block-manager.js';
export { BlockPool } from './block-manager/block-pool.js';
export type { CompactionPlan, KeptPositions } from './block-manager/compaction.js';
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
export type { FastKvPolicy } from './compression/policies.js';
export {
  fastKvPolicy,
  h2oPolicy,
  pyramidKvPolicy,
  snapKvPolicy,
  streamingLlmPolicy,
} from './compression/policies.js';
export type { EvictionInput, TokenEvictionPolicy } from './compression/policy.js';
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
export type { KvBits } from './quant/group-quant.js';
export { dequantizeRow, qmaxOf, quantizeRow } from './quant/group-quant.js';
export type { HierarchicalView } from './quant/hierarchical-kv-storage.js';
export { HierarchicalKvStorage } from './quant/hierarchical-kv-storage.js';
export type { QuantizedKvOptions } from './quant/quantized-kv-storage.js';
export { QuantizedKvStorage } from './quant/quantized-kv-storage.js';
export type { KvLayout, KvTile, PagedKvSource } from './storage/layout.js';
export { PagedKvStorage } from './storage/paged-kv-storage.js';
export type { KvTransfer } from './transfer/kv-transfer.js';
export { exportSequence, importSequence } from './transfer/kv-transfer.js';
export type { PagedDecodeWebGpuOptions } from './webgpu/paged-decode-webgpu.js';
export { pagedDecodeAttentionWebGpu } from './webgpu/paged-decode-webgpu.js';
export type {
  PagedPrefillWebGpuOptions,
  PrefillChunk,
} from './webgpu/paged-prefill-webgpu.js';
export { pagedPrefillAttentionWebGpu } from './webgpu/paged-prefill-webgpu.js';
export { slotMapping, WebGpuKvStorage } from './webgpu/webgpu-kv-storage.js';
