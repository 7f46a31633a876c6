import { PlexusKvCacheError } from '../errors.js';
import { BlockPool } from './block-pool.js';
import { type CompactionPlan, type KeptPositions, normalizeKept } from './compaction.js';
import { checkInvariants } from './invariants.js';
import { SequenceRegistry } from './registry.js';
import { extendKeys, kvLength, newRecord, type SequenceRecord } from './sequence.js';
import { moveBlocks } from './swap.js';
import type {
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
} from './types.js';
import { checkDistinct, checkTokens } from './validate.js';

const MODULE = 'block-manager';

/** Options of {@link BlockManager}. */
export interface BlockManagerOptions {
  /** Device blocks, shared by every layer's K and V (one id addresses all layers). */
  readonly numBlocks: number;
  /** Tokens per block: 8, 16 or 32. */
  readonly blockSize: BlockSize;
  /** Host (swap) blocks; 0 disables swapping. Default 0. */
  readonly numHostBlocks?: number;
  /** Fraction of device blocks admission keeps free for running sequences to grow. Default 0.01. */
  readonly watermark?: number;
  /** Share full blocks between prompts with equal prefixes. Default true. */
  readonly enablePrefixCaching?: boolean;
  /** Check every invariant after every mutation (O(blocks) each). Default false. */
  readonly debug?: boolean;
}

/**
 * PagedAttention-style block manager (Kwon et al., 2023): sequences own
 * tables of fixed-size blocks from one preallocated pool, blocks are shared
 * by reference count (forks, cached prefixes) and copied on write only when a
 * shared, partly filled last block diverges. Pure bookkeeping: it returns the
 * copies an engine must run on its KV storage and never touches tensors.
 */
export class BlockManager implements KvCacheV1 {
  readonly specificationVersion = 'v1' as const;
  readonly blockSize: BlockSize;
  readonly numBlocks: number;
  readonly numHostBlocks: number;
  /** Blocks admission keeps free (`floor(watermark * numBlocks)`). */
  readonly watermarkBlocks: number;
  private readonly device: BlockPool;
  private readonly host: BlockPool;
  private readonly caching: boolean;
  private readonly debug: boolean;
  private readonly seqs = new SequenceRegistry();
  private counters = {
    prefixQueries: 0,
    prefixHits: 0,
    cowCopies: 0,
    swappedBlocks: 0,
    recomputePreemptions: 0,
  };

  constructor(options: BlockManagerOptions) {
    const { numBlocks, blockSize, numHostBlocks = 0, watermark = 0.01 } = options;
    if (blockSize !== 8 && blockSize !== 16 && blockSize !== 32)
      throw new PlexusKvCacheError(MODULE, `blockSize is ${blockSize}; expected 8, 16 or 32`);
    if (!Number.isInteger(numBlocks) || numBlocks < 1)
      throw new PlexusKvCacheError(
        MODULE,
        `numBlocks is ${numBlocks}; expected a positive integer`,
      );
    if (!(watermark >= 0 && watermark < 1))
      throw new PlexusKvCacheError(
        MODULE,
        `watermark is ${watermark}; expected a fraction in [0, 1)`,
      );
    this.blockSize = blockSize;
    this.numBlocks = numBlocks;
    this.numHostBlocks = numHostBlocks;
    this.watermarkBlocks = Math.floor(watermark * numBlocks);
    this.device = new BlockPool(numBlocks, MODULE);
    this.host = new BlockPool(numHostBlocks, MODULE);
    this.caching = options.enablePrefixCaching ?? true;
    this.debug = options.debug ?? false;
  }

  numFreeBlocks(): number {
    return this.device.numFree();
  }

  numFreeHostBlocks(): number {
    return this.host.numFree();
  }

  /** Reference count of a device block (for engines and tests). */
  refCount(block: number): number {
    return this.device.refCount(block);
  }

  /**
   * Leading tokens of `tokens` whose blocks are in the prefix cache now
   * (what `addSequence` would reuse), without admitting anything or counting
   * a lookup: what a cache-aware scheduler orders waiting requests by.
   */
  cachedPrefixLength(tokens: ArrayLike<number>, options: SequenceOptions = {}): number {
    checkTokens(tokens, 'tokens');
    if (tokens.length === 0) return 0;
    return (
      this.prefixHits(newRecord(tokens, options.salt ?? '', this.blockSize), false).length *
      this.blockSize
    );
  }

  canAdmit(tokens: ArrayLike<number>, options: SequenceOptions = {}): Admission {
    return this.admission(newRecord(tokens, options.salt ?? '', this.blockSize));
  }

  addSequence(
    id: SequenceId,
    tokens: ArrayLike<number>,
    options: SequenceOptions = {},
  ): AddSequenceResult {
    this.checkNewId(id);
    checkTokens(tokens, 'tokens');
    if (tokens.length === 0)
      throw new PlexusKvCacheError(
        MODULE,
        `sequence ${id} has no tokens; expected a non-empty prompt`,
      );
    const record = newRecord(tokens, options.salt ?? '', this.blockSize);
    const admission = this.admission(record);
    if (admission !== 'ok')
      throw new PlexusKvCacheError(
        MODULE,
        `sequence ${id} (${tokens.length} tokens) cannot be admitted now (canAdmit says '${admission}'); expected a caller to check canAdmit first`,
      );
    const hits = this.prefixHits(record, true);
    for (const b of hits) this.device.acquire(b);
    record.table.push(...hits);
    const needed = Math.ceil(record.tokens.length / this.blockSize);
    while (record.table.length < needed) {
      const b = this.device.allocate();
      record.table.push(b);
      const key = record.keys[record.table.length - 1];
      if (this.caching && key !== undefined) this.device.register(b, key);
    }
    this.seqs.add(id, record);
    this.afterMutation();
    return { blockTable: record.table.slice(), numCachedTokens: hits.length * this.blockSize };
  }

  canAppend(id: SequenceId, numTokens = 1): boolean {
    return this.blocksToAppend(this.running(id, 'canAppend'), numTokens) <= this.device.numFree();
  }

  appendTokens(id: SequenceId, tokens: ArrayLike<number>): AppendResult {
    const record = this.running(id, 'appendTokens');
    checkTokens(tokens, 'tokens');
    const need = this.blocksToAppend(record, tokens.length);
    if (need > this.device.numFree())
      throw new PlexusKvCacheError(
        MODULE,
        `out of blocks: appending ${tokens.length} tokens to sequence ${id} needs ${need} free blocks, ${this.device.numFree()} are free; expected a caller to check canAppend and preempt first`,
      );
    if (record.layerLengths !== undefined) return this.appendCompacted(record, tokens);
    const newBlocks: number[] = [];
    const copies: BlockCopy[] = [];
    for (let i = 0; i < tokens.length; i++) {
      const slot = record.tokens.length % this.blockSize;
      if (slot === 0) {
        const b = this.device.allocate();
        record.table.push(b);
        newBlocks.push(b);
      } else {
        const last = record.table.at(-1)!;
        if (this.device.refCount(last) > 1) {
          // Copy-on-write: only the shared, partly filled last block diverges.
          const b = this.device.allocate();
          copies.push({ src: last, dst: b, numTokens: slot });
          this.device.release(last);
          record.table[record.table.length - 1] = b;
          this.counters.cowCopies++;
        } else {
          // Only a truncated sequence's last block can still carry a key here: its tail changes now.
          this.device.unregister(last);
        }
      }
      record.tokens.push(tokens[i]!);
      if (slot === this.blockSize - 1) {
        extendKeys(record.keys, record.salt, record.tokens, this.blockSize);
        if (this.caching) this.device.register(record.table.at(-1)!, record.keys.at(-1)!);
      }
    }
    this.afterMutation();
    return { newBlocks, copies };
  }

  /**
   * Drop a running sequence's last tokens, keeping the first `length`:
   * blocks past the new end are released, and a kept last block that is now
   * partly filled leaves the prefix cache when the sequence owns it alone
   * (its tail slots will be overwritten); a shared one keeps its key for the
   * sharers, and the next append copies it on write (or, if the sharers have
   * gone by then, drops the key before writing). Speculative decoding uses this to discard
   * rejected draft tokens. Not for compacted sequences.
   */
  truncate(id: SequenceId, length: number): void {
    const record = this.running(id, 'truncate');
    if (record.layerLengths !== undefined)
      throw new PlexusKvCacheError(
        MODULE,
        `truncate: sequence ${id} was compacted (per-layer lengths); expected an uncompacted sequence`,
      );
    if (!Number.isInteger(length) || length < 1 || length > record.tokens.length)
      throw new PlexusKvCacheError(
        MODULE,
        `truncate: length ${length} is not in [1, ${record.tokens.length}] for sequence ${id}`,
      );
    const keepBlocks = Math.ceil(length / this.blockSize);
    for (const b of record.table.splice(keepBlocks)) this.device.release(b);
    record.tokens.length = length;
    record.keys.length = Math.floor(length / this.blockSize);
    const last = record.table.at(-1)!;
    if (length % this.blockSize !== 0 && this.device.refCount(last) === 1) {
      this.device.unregister(last);
    }
    this.afterMutation();
  }

  fork(parentId: SequenceId, childId: SequenceId): void {
    const parent = this.running(parentId, 'fork');
    this.checkNewId(childId);
    for (const b of parent.table) this.device.retain(b);
    const child: SequenceRecord = {
      status: 'running',
      tokens: parent.tokens.slice(),
      table: parent.table.slice(),
      keys: parent.keys.slice(),
      salt: parent.salt,
    };
    if (parent.layerLengths !== undefined) child.layerLengths = parent.layerLengths.slice();
    this.seqs.add(childId, child);
    this.afterMutation();
  }

  free(id: SequenceId): void {
    const record = this.record(id, 'free');
    const pool = record.status === 'running' ? this.device : this.host;
    for (const b of record.table) pool.release(b);
    this.seqs.end(id, 'freed');
    this.afterMutation();
  }

  preemptByRecompute(id: SequenceId): { readonly tokens: readonly number[] } {
    const record = this.running(id, 'preemptByRecompute');
    // Full blocks stay cached-free, so re-adding the tokens often hits them.
    for (const b of record.table) this.device.release(b);
    this.seqs.end(id, 'preempted');
    this.counters.recomputePreemptions++;
    this.afterMutation();
    return { tokens: record.tokens };
  }

  /**
   * Apply a token-eviction choice to a running sequence's blocks: in each
   * layer (and, given one array per KV head, each head) the kept positions,
   * ascending, move to the front, the table shrinks to the blocks the longest
   * layer needs and the rest are released. Blocks the sequence shares (forks,
   * cached prefixes) are not written: they get private copies, so other
   * sequences are untouched; blocks it keeps lose their prefix keys (their
   * contents change), released ones keep theirs. Afterwards the sequence has
   * per-layer lengths (`cachedLengths`); appends grow every layer by the same
   * count and copy-on-write any shared block they write.
   *
   * One block id addresses every layer, so the table is sized by the layer
   * that keeps most: layers with smaller budgets (PyramidKV) leave their tail
   * slots unused. Returns the plan the engine runs on its store
   * (`PagedKvStorage.compact` / `WebGpuKvStorage.compact`) before the next
   * allocation.
   */
  compact(id: SequenceId, kept: readonly KeptPositions[]): CompactionPlan {
    const record = this.running(id, 'compact');
    const heads = normalizeKept(id, kept, record.layerLengths, record.tokens.length);
    const lengths = heads.map((h) => h[0]!.length);
    const count = Math.ceil(Math.max(...lengths) / this.blockSize);
    const source = record.table.slice();
    const shared = source.slice(0, count).filter((b) => this.device.refCount(b) > 1).length;
    if (shared > this.device.numFree())
      throw new PlexusKvCacheError(
        MODULE,
        `out of blocks: compacting sequence ${id} needs ${shared} free blocks for private copies of shared blocks, ${this.device.numFree()} are free; expected a caller to free or preempt first`,
      );
    // Allocate before releasing, so no block the plan still reads is handed out.
    const table = source.slice(0, count).map((b) => {
      if (this.device.refCount(b) > 1) return this.device.allocate();
      this.device.unregister(b);
      return b;
    });
    source.forEach((b, i) => {
      if (table[i] !== b) this.device.release(b);
    });
    record.table = table;
    record.keys.length = 0;
    record.layerLengths = lengths;
    this.afterMutation();
    return {
      sourceTable: source,
      blockTable: table.slice(),
      kept: heads,
      layerLengths: lengths.slice(),
      freedBlocks: source.length - count,
    };
  }

  /** Tokens cached per layer of a compacted sequence; `undefined` while every layer caches every token. */
  cachedLengths(id: SequenceId): readonly number[] | undefined {
    return this.record(id, 'cachedLengths').layerLengths?.slice();
  }

  canSwapOut(ids: readonly SequenceId[]): boolean {
    return this.uniqueBlocks(ids, 'running', 'canSwapOut').size <= this.host.numFree();
  }

  swapOut(ids: readonly SequenceId[]): SwapPlan {
    return this.swap(ids, 'out');
  }

  canSwapIn(ids: readonly SequenceId[]): boolean {
    const need = this.uniqueBlocks(ids, 'swapped', 'canSwapIn').size;
    return this.device.numFree() - need >= this.watermarkBlocks;
  }

  swapIn(ids: readonly SequenceId[]): SwapPlan {
    return this.swap(ids, 'in');
  }

  blockTable(id: SequenceId): readonly number[] {
    return this.record(id, 'blockTable').table.slice();
  }

  tokens(id: SequenceId): readonly number[] {
    return this.record(id, 'tokens').tokens.slice();
  }

  status(id: SequenceId): SequenceStatus {
    return this.record(id, 'status').status;
  }

  sequenceIds(): SequenceId[] {
    return [...this.seqs.live.keys()];
  }

  stats(): KvCacheStats {
    return { ...this.counters, evictions: this.device.evictions };
  }

  checkInvariants(): void {
    checkInvariants(this.device, this.host, this.seqs.live, this.blockSize, this.caching);
  }

  private admission(record: SequenceRecord): Admission {
    const required = Math.ceil(record.tokens.length / this.blockSize);
    if (required > this.numBlocks - this.watermarkBlocks) return 'never';
    // Prefix hits on blocks other sequences already reference cost nothing.
    const hits = this.prefixHits(record, false);
    const shared = hits.filter((b) => this.device.refCount(b) > 0).length;
    return this.device.numFree() - (required - shared) >= this.watermarkBlocks ? 'ok' : 'later';
  }

  private swap(ids: readonly SequenceId[], direction: 'out' | 'in'): SwapPlan {
    const from = direction === 'out' ? this.device : this.host;
    const to = direction === 'out' ? this.host : this.device;
    const status = direction === 'out' ? 'running' : 'swapped';
    const what = direction === 'out' ? 'swapOut' : 'swapIn';
    const unique = this.uniqueBlocks(ids, status, what);
    if (unique.size > to.numFree())
      throw new PlexusKvCacheError(
        MODULE,
        `${what} needs ${unique.size} free ${direction === 'out' ? 'host' : 'device'} blocks, ${to.numFree()} are free; expected a caller to check ${direction === 'out' ? 'canSwapOut' : 'canSwapIn'} first`,
      );
    const records = ids.map((id) => this.seqs.live.get(id)!);
    const copies = moveBlocks(records, from, to);
    for (const record of records) {
      record.status = direction === 'out' ? 'swapped' : 'running';
      // Swapped-in full blocks become hittable again unless another block took their key.
      if (direction === 'in' && this.caching)
        for (let i = 0; i < record.keys.length; i++)
          this.device.register(record.table[i]!, record.keys[i]!);
    }
    this.counters.swappedBlocks += copies.length;
    this.afterMutation();
    return { direction, copies };
  }

  private uniqueBlocks(
    ids: readonly SequenceId[],
    status: SequenceStatus,
    what: string,
  ): Set<number> {
    checkDistinct(ids, what);
    const unique = new Set<number>();
    for (const id of ids) {
      const record = this.record(id, what);
      if (record.status !== status)
        throw new PlexusKvCacheError(
          MODULE,
          `${what}: sequence ${id} is ${record.status}; expected a ${status} sequence`,
        );
      for (const b of record.table) unique.add(b);
    }
    return unique;
  }

  /** Cached blocks for the prompt's leading full blocks, always leaving its last token to compute. */
  private prefixHits(record: SequenceRecord, count: boolean): number[] {
    if (!this.caching) return [];
    const hittable = Math.floor((record.tokens.length - 1) / this.blockSize);
    const hits: number[] = [];
    for (let i = 0; i < hittable; i++) {
      const b = this.device.lookup(record.keys[i]!);
      if (b === undefined) break;
      hits.push(b);
    }
    if (count) {
      this.counters.prefixQueries += hittable;
      this.counters.prefixHits += hits.length;
    }
    return hits;
  }

  /** Append to a compacted sequence: every layer grows by the same count. */
  private appendCompacted(record: SequenceRecord, tokens: ArrayLike<number>): AppendResult {
    const copies: BlockCopy[] = [];
    const filled = kvLength(record);
    for (const i of this.compactedWrites(record, tokens.length)) {
      const b = record.table[i]!;
      if (this.device.refCount(b) > 1) {
        const copy = this.device.allocate();
        copies.push({
          src: b,
          dst: copy,
          numTokens: Math.min(this.blockSize, filled - i * this.blockSize),
        });
        this.device.release(b);
        record.table[i] = copy;
        this.counters.cowCopies++;
      }
    }
    const newBlocks: number[] = [];
    while (record.table.length < Math.ceil((filled + tokens.length) / this.blockSize)) {
      const b = this.device.allocate();
      record.table.push(b);
      newBlocks.push(b);
    }
    for (let i = 0; i < tokens.length; i++) record.tokens.push(tokens[i]!);
    record.layerLengths = record.layerLengths!.map((n) => n + tokens.length);
    this.afterMutation();
    return { newBlocks, copies };
  }

  /** Existing table indices an append of `numTokens` writes in some layer of a compacted sequence. */
  private compactedWrites(record: SequenceRecord, numTokens: number): number[] {
    const touched = new Set<number>();
    if (numTokens === 0) return [];
    for (const len of record.layerLengths!) {
      const end = Math.min(Math.ceil((len + numTokens) / this.blockSize), record.table.length);
      for (let i = Math.floor(len / this.blockSize); i < end; i++) touched.add(i);
    }
    return [...touched];
  }

  private blocksToAppend(record: SequenceRecord, numTokens: number): number {
    if (record.layerLengths !== undefined) {
      const grow = Math.ceil((kvLength(record) + numTokens) / this.blockSize) - record.table.length;
      const cow = this.compactedWrites(record, numTokens).filter(
        (i) => this.device.refCount(record.table[i]!) > 1,
      ).length;
      return grow + cow;
    }
    const slot = record.tokens.length % this.blockSize;
    const grow =
      Math.ceil((record.tokens.length + numTokens) / this.blockSize) - record.table.length;
    const cow = slot !== 0 && numTokens > 0 && this.device.refCount(record.table.at(-1)!) > 1;
    return grow + (cow ? 1 : 0);
  }

  private record(id: SequenceId, what: string): SequenceRecord {
    return this.seqs.get(id, what);
  }

  private running(id: SequenceId, what: string): SequenceRecord {
    const record = this.record(id, what);
    if (record.status !== 'running')
      throw new PlexusKvCacheError(
        MODULE,
        `${what}: sequence ${id} is swapped out; expected a running sequence (swapIn first)`,
      );
    return record;
  }

  private checkNewId(id: SequenceId): void {
    this.seqs.checkNew(id);
  }

  private afterMutation(): void {
    if (this.debug) this.checkInvariants();
  }
}
