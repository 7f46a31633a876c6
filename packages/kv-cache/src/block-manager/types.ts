/** Identifies a sequence (one prompt + its generated tokens, or one beam). */
export type SequenceId = number;

/** Block sizes the pool supports, in tokens per block. */
export type BlockSize = 8 | 16 | 32;

/**
 * Admission answer: `ok` (enough free blocks above the watermark now),
 * `later` (would fit once running sequences finish) or `never` (larger than
 * the whole pool less the watermark).
 */
export type Admission = 'ok' | 'later' | 'never';

/** Where a sequence's blocks live. */
export type SequenceStatus = 'running' | 'swapped';

/**
 * Copy the first `numTokens` token slots of device block `src` into device
 * block `dst` (copy-on-write of a shared, partly filled last block), for
 * every layer's K and V.
 */
export interface BlockCopy {
  readonly src: number;
  readonly dst: number;
  readonly numTokens: number;
}

/**
 * Whole-block copies between the device pool and the host pool. `out`: `src`
 * is a device block and `dst` a host block; `in`: the reverse. The engine runs
 * them (for every layer's K and V) before it next uses the sequences.
 */
export interface SwapPlan {
  readonly direction: 'out' | 'in';
  readonly copies: readonly { readonly src: number; readonly dst: number }[];
}

/** What {@link KvCacheV1.addSequence} did. */
export interface AddSequenceResult {
  /** Device block ids, one per `blockSize` tokens. */
  readonly blockTable: readonly number[];
  /** Leading tokens whose KV is already in cached blocks: compute from here. */
  readonly numCachedTokens: number;
}

/** What {@link KvCacheV1.appendTokens} did. */
export interface AppendResult {
  /** Blocks newly allocated at the end of the table. */
  readonly newBlocks: readonly number[];
  /** Copy-on-write copies to run before writing the new tokens' KV. */
  readonly copies: readonly BlockCopy[];
}

/** Per-tenant options of a new sequence. */
export interface SequenceOptions {
  /** Prefix-cache salt: sequences only share cached blocks within one salt. */
  readonly salt?: string;
}

/** Counters since construction. */
export interface KvCacheStats {
  /** Blocks looked up in the prefix cache at admission. */
  readonly prefixQueries: number;
  /** Of those, blocks found cached (shared or revived). */
  readonly prefixHits: number;
  /** Cached free blocks whose key was dropped to reuse the block. */
  readonly evictions: number;
  /** Copy-on-write block copies issued. */
  readonly cowCopies: number;
  /** Blocks copied by swap plans, both directions. */
  readonly swappedBlocks: number;
  /** Sequences preempted by recompute. */
  readonly recomputePreemptions: number;
}

/**
 * Version 1 of the KV-cache block-manager contract an inference engine codes
 * against. Implementations carry `specificationVersion` so a later `v2` can be
 * told apart at runtime.
 */
export interface KvCacheV1 {
  readonly specificationVersion: 'v1';
  readonly blockSize: BlockSize;
  readonly numBlocks: number;
  readonly numHostBlocks: number;
  /** Free device blocks, cached-but-free ones included. */
  numFreeBlocks(): number;
  /** Free host (swap) blocks. */
  numFreeHostBlocks(): number;
  /** Whether a prompt can be added now, later or never. */
  canAdmit(tokens: ArrayLike<number>, options?: SequenceOptions): Admission;
  /** Allocate blocks for a prompt, reusing cached prefix blocks. */
  addSequence(
    id: SequenceId,
    tokens: ArrayLike<number>,
    options?: SequenceOptions,
  ): AddSequenceResult;
  /** Whether `numTokens` more tokens fit without preempting anyone. */
  canAppend(id: SequenceId, numTokens?: number): boolean;
  /** Extend a running sequence, allocating and copying-on-write as needed. */
  appendTokens(id: SequenceId, tokens: ArrayLike<number>): AppendResult;
  /** Start `childId` sharing every block of `parentId` (parallel sampling, beams). */
  fork(parentId: SequenceId, childId: SequenceId): void;
  /** Release a finished sequence's blocks. */
  free(id: SequenceId): void;
  /** Drop a running sequence's blocks; the engine re-adds its tokens later. */
  preemptByRecompute(id: SequenceId): { readonly tokens: readonly number[] };
  /** Whether the sequences fit in the host pool. */
  canSwapOut(ids: readonly SequenceId[]): boolean;
  /** Move sequences to the host pool; returns the copies to run. */
  swapOut(ids: readonly SequenceId[]): SwapPlan;
  /** Whether swapped sequences fit back on the device above the watermark. */
  canSwapIn(ids: readonly SequenceId[]): boolean;
  /** Move swapped sequences back; returns the copies to run. */
  swapIn(ids: readonly SequenceId[]): SwapPlan;
  /** The sequence's block ids (device when running, host when swapped). */
  blockTable(id: SequenceId): readonly number[];
  /** The sequence's tokens. */
  tokens(id: SequenceId): readonly number[];
  /** Where the sequence's blocks live. */
  status(id: SequenceId): SequenceStatus;
  /** Live sequence ids. */
  sequenceIds(): SequenceId[];
  /** Counters since construction. */
  stats(): KvCacheStats;
  /** Throw if any bookkeeping invariant is broken. */
  checkInvariants(): void;
}
