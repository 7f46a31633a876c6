import { PlexusKvCacheError } from '../errors.js';
import type { BlockHash } from '../prefix/block-hash.js';

/**
 * Reference-counted pool of block ids `0..size-1`. A block is in exactly one
 * state: referenced (`ref > 0`), plainly free, or cached-free (ref 0 but its
 * prefix key still resolves to it, so a later prompt can revive it). Cached
 * free blocks are reused in least-recently-freed order only when no plain
 * free block is left, which keeps popular prefixes hittable longest.
 */
export class BlockPool {
  readonly size: number;
  private readonly refs: Int32Array;
  private readonly freeStack: Int32Array;
  private freeTop: number;
  private readonly inFreeStack: Uint8Array;
  private readonly keyOf: (BlockHash | undefined)[];
  private readonly byKey = new Map<BlockHash, number>();
  // Map iteration order is insertion order: the first entry is the LRU block.
  private readonly cachedFree = new Map<number, true>();
  /** Cached free blocks whose key was dropped to reuse them. */
  evictions = 0;

  constructor(
    size: number,
    private readonly module = 'block-pool',
  ) {
    if (!Number.isInteger(size) || size < 0)
      throw new PlexusKvCacheError(module, `size must be a non-negative integer, got ${size}`);
    this.size = size;
    this.refs = new Int32Array(size);
    this.freeStack = new Int32Array(size);
    this.inFreeStack = new Uint8Array(size).fill(1);
    // Lowest ids on top so a fresh pool hands out 0, 1, 2, ...
    for (let i = 0; i < size; i++) this.freeStack[i] = size - 1 - i;
    this.freeTop = size;
    this.keyOf = new Array<BlockHash | undefined>(size).fill(undefined);
  }

  /** Free blocks, cached ones included. */
  numFree(): number {
    return this.freeTop + this.cachedFree.size;
  }

  /** Free blocks still holding a cached prefix. */
  numCachedFree(): number {
    return this.cachedFree.size;
  }

  /** Take a free block (ref 1), evicting the LRU cached block if needed. */
  allocate(): number {
    let block: number;
    if (this.freeTop > 0) {
      block = this.freeStack[--this.freeTop]!;
      this.inFreeStack[block] = 0;
    } else {
      const lru = this.cachedFree.keys().next();
      if (lru.done === true)
        throw new PlexusKvCacheError(
          this.module,
          `out of blocks: all ${this.size} are referenced; expected a caller to check free blocks first`,
        );
      block = lru.value;
      this.cachedFree.delete(block);
      this.byKey.delete(this.keyOf[block]!);
      this.keyOf[block] = undefined;
      this.evictions++;
    }
    this.refs[block] = 1;
    return block;
  }

  /** Add a reference to a referenced block. */
  retain(block: number): void {
    this.checkId(block);
    if (this.refs[block]! <= 0)
      throw new PlexusKvCacheError(
        this.module,
        `use after free: block ${block} is free; expected a referenced block`,
      );
    this.refs[block]!++;
  }

  /** Drop a reference; at zero the block becomes free (cached if it has a key). */
  release(block: number): void {
    this.checkId(block);
    if (this.refs[block]! <= 0)
      throw new PlexusKvCacheError(
        this.module,
        `double free: block ${block} is already free; expected a referenced block`,
      );
    if (--this.refs[block]! > 0) return;
    if (this.keyOf[block] !== undefined) {
      this.cachedFree.set(block, true);
    } else {
      this.freeStack[this.freeTop++] = block;
      this.inFreeStack[block] = 1;
    }
  }

  /** Current reference count. */
  refCount(block: number): number {
    this.checkId(block);
    return this.refs[block]!;
  }

  /** Give a referenced, full block its prefix key unless another block has it. */
  register(block: number, key: BlockHash): boolean {
    if (this.byKey.has(key) || this.keyOf[block] !== undefined) return false;
    this.byKey.set(key, block);
    this.keyOf[block] = key;
    return true;
  }

  /** Drop a referenced block's prefix key (its contents are about to change). */
  unregister(block: number): void {
    this.checkId(block);
    const key = this.keyOf[block];
    if (key === undefined || this.refs[block]! <= 0) return;
    this.byKey.delete(key);
    this.keyOf[block] = undefined;
  }

  /** The block holding `key`, if any (referenced or cached-free). */
  lookup(key: BlockHash): number | undefined {
    return this.byKey.get(key);
  }

  /** Reference a block found by {@link lookup}, reviving it if cached-free. */
  acquire(block: number): void {
    if (this.refs[block] === 0) {
      if (!this.cachedFree.delete(block))
        throw new PlexusKvCacheError(
          this.module,
          `block ${block} is free without a cached key; expected a cached or referenced block`,
        );
      this.refs[block] = 1;
    } else {
      this.retain(block);
    }
  }

  /** The block's prefix key, if registered. */
  keyOfBlock(block: number): BlockHash | undefined {
    return this.keyOf[block];
  }

  /** Throw if the pool's own states disagree (one state per block, keys consistent). */
  checkSelf(): void {
    let free = 0;
    for (let b = 0; b < this.size; b++) {
      const states =
        (this.refs[b]! > 0 ? 1 : 0) + this.inFreeStack[b]! + (this.cachedFree.has(b) ? 1 : 0);
      if (this.refs[b]! < 0 || states !== 1)
        throw new PlexusKvCacheError(
          'invariants',
          `block ${b} has ref ${this.refs[b]}, free-list ${this.inFreeStack[b]}, cached ${this.cachedFree.has(b)}; expected exactly one state`,
        );
      if (this.refs[b] === 0) free++;
      const key = this.keyOf[b];
      if (key !== undefined && this.byKey.get(key) !== b)
        throw new PlexusKvCacheError('invariants', `block ${b}'s key does not map back to it`);
      if (this.cachedFree.has(b) && key === undefined)
        throw new PlexusKvCacheError('invariants', `cached free block ${b} has no key`);
    }
    if (free !== this.numFree())
      throw new PlexusKvCacheError(
        'invariants',
        `${free} blocks have ref 0 but the pool counts ${this.numFree()} free`,
      );
    for (const [key, b] of this.byKey)
      if (this.keyOf[b] !== key)
        throw new PlexusKvCacheError(
          'invariants',
          `key ${key} maps to block ${b} with another key`,
        );
  }

  private checkId(block: number): void {
    if (!Number.isInteger(block) || block < 0 || block >= this.size)
      throw new PlexusKvCacheError(
        this.module,
        `block id ${block} is out of range; expected an integer in [0, ${this.size})`,
      );
  }
}
