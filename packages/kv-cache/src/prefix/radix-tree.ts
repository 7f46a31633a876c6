import { PlexusKvCacheError } from '../errors.js';
import { MinHeap } from './min-heap.js';

const MODULE = 'radix-tree';

/** A node of {@link RadixTree}; opaque to callers except as a lock handle. */
export interface RadixNode<T> {
  readonly parent: RadixNode<T> | undefined;
  /** Edge label: the tokens from the parent to this node (a multiple of the page size). */
  key: number[];
  /** One value per page of `key` (e.g. a KV block id). */
  values: T[];
  readonly children: Map<string, RadixNode<T>>;
  lockRef: number;
  lastAccess: number;
}

/** Result of {@link RadixTree.matchPrefix}. */
export interface PrefixMatch<T> {
  /** Matched tokens (a multiple of the page size). */
  readonly length: number;
  /** Values of the matched pages, in order. */
  readonly values: T[];
  /** The node ending exactly at the match: lock it while the KV is in use. */
  readonly node: RadixNode<T>;
}

/** Options of {@link RadixTree}. */
export interface RadixTreeOptions {
  /** Tokens per page: keys are matched and stored in whole pages. Default 1. */
  readonly pageSize?: number;
}

/** Hit and eviction counters, in tokens. */
export interface RadixTreeStats {
  readonly queriedTokens: number;
  readonly hitTokens: number;
  readonly evictedTokens: number;
}

/**
 * SGLang-style radix tree (RadixAttention, Zheng et al., 2024) over token
 * sequences: edges carry token runs, nodes carry one value per page, matches
 * are longest-prefix, and eviction removes least-recently-used leaves that no
 * running request has locked. A scheduler queries it to order waiting
 * requests by cached prefix length ({@link RadixTree.cacheAwareOrder}).
 */
export class RadixTree<T> {
  readonly pageSize: number;
  private readonly root: RadixNode<T>;
  private clock = 0;
  private cachedTokens = 0;
  private lockedTokens = 0;
  private counters = { queriedTokens: 0, hitTokens: 0, evictedTokens: 0 };

  constructor(options: RadixTreeOptions = {}) {
    const pageSize = options.pageSize ?? 1;
    if (!Number.isInteger(pageSize) || pageSize < 1)
      throw new PlexusKvCacheError(MODULE, `pageSize is ${pageSize}; expected a positive integer`);
    this.pageSize = pageSize;
    this.root = this.node(undefined, [], []);
    this.root.lockRef = 1; // the root is never evicted
  }

  /** Tokens stored in the tree. */
  get size(): number {
    return this.cachedTokens;
  }

  /** Tokens that {@link evict} may remove (not under a lock). */
  get evictableSize(): number {
    return this.cachedTokens - this.lockedTokens;
  }

  /** Counters since construction. */
  stats(): RadixTreeStats {
    return { ...this.counters };
  }

  /** Longest cached prefix of `tokens` (whole pages); refreshes its LRU time. */
  matchPrefix(tokens: ArrayLike<number>): PrefixMatch<T> {
    const usable = tokens.length - (tokens.length % this.pageSize);
    const now = ++this.clock;
    const values: T[] = [];
    let node = this.root;
    let pos = 0;
    node.lastAccess = now;
    while (pos < usable) {
      const child = node.children.get(this.pageKey(tokens, pos));
      if (child === undefined) break;
      const common = this.commonLength(child.key, tokens, pos, usable);
      child.lastAccess = now;
      if (common < child.key.length) {
        node = this.split(child, common);
        values.push(...node.values);
        pos += common;
        break;
      }
      values.push(...child.values);
      pos += common;
      node = child;
    }
    this.counters.queriedTokens += tokens.length;
    this.counters.hitTokens += pos;
    return { length: pos, values, node };
  }

  /** Length of the cached prefix without touching LRU times, counters or shape. */
  peekPrefixLength(tokens: ArrayLike<number>): number {
    const usable = tokens.length - (tokens.length % this.pageSize);
    let node = this.root;
    let pos = 0;
    while (pos < usable) {
      const child = node.children.get(this.pageKey(tokens, pos));
      if (child === undefined) break;
      const common = this.commonLength(child.key, tokens, pos, usable);
      pos += common;
      if (common < child.key.length) break;
      node = child;
    }
    return pos;
  }

  /**
   * Insert `tokens` (truncated to whole pages) with one value per page.
   * Returns how many leading tokens were already cached: their new values are
   * ignored (the caller frees those duplicates).
   */
  insert(tokens: ArrayLike<number>, values: readonly T[]): number {
    const usable = tokens.length - (tokens.length % this.pageSize);
    if (values.length < usable / this.pageSize)
      throw new PlexusKvCacheError(
        MODULE,
        `insert got ${values.length} values for ${usable / this.pageSize} pages; expected one per page`,
      );
    const now = ++this.clock;
    let node = this.root;
    let pos = 0;
    while (pos < usable) {
      const child = node.children.get(this.pageKey(tokens, pos));
      if (child === undefined) {
        const key = Array.from({ length: usable - pos }, (_, i) => tokens[pos + i]!);
        const leaf = this.node(
          node,
          key,
          values.slice(pos / this.pageSize, usable / this.pageSize),
        );
        leaf.lastAccess = now;
        node.children.set(this.pageKey(key, 0), leaf);
        this.cachedTokens += key.length;
        return pos;
      }
      const common = this.commonLength(child.key, tokens, pos, usable);
      child.lastAccess = now;
      node = common < child.key.length ? this.split(child, common) : child;
      pos += common;
    }
    return pos;
  }

  /** Protect the path root→`node` from eviction (a running request uses it). */
  lock(node: RadixNode<T>): void {
    for (let n: RadixNode<T> | undefined = node; n !== undefined && n !== this.root; n = n.parent) {
      if (n.lockRef === 0) this.lockedTokens += n.key.length;
      n.lockRef++;
    }
  }

  /** Undo one {@link lock} of `node`. */
  unlock(node: RadixNode<T>): void {
    for (let n: RadixNode<T> | undefined = node; n !== undefined && n !== this.root; n = n.parent) {
      if (n.lockRef <= 0)
        throw new PlexusKvCacheError(
          MODULE,
          'unlock of a node that is not locked; expected a matching lock',
        );
      n.lockRef--;
      if (n.lockRef === 0) this.lockedTokens -= n.key.length;
    }
  }

  /**
   * Remove least-recently-used unlocked leaves until at least `numTokens`
   * tokens are gone (or none is evictable); `onEvict` receives each removed
   * node's values. Returns the tokens removed.
   */
  evict(numTokens: number, onEvict?: (values: T[]) => void): number {
    const heap = new MinHeap<RadixNode<T>>();
    const visit = (n: RadixNode<T>): void => {
      if (n.children.size === 0 && n.lockRef === 0 && n !== this.root) heap.push(n.lastAccess, n);
      for (const c of n.children.values()) visit(c);
    };
    visit(this.root);
    let removed = 0;
    while (removed < numTokens) {
      const leaf = heap.pop();
      if (leaf === undefined) break;
      const parent = leaf.parent!;
      parent.children.delete(this.pageKey(leaf.key, 0));
      removed += leaf.key.length;
      this.cachedTokens -= leaf.key.length;
      onEvict?.(leaf.values);
      if (parent !== this.root && parent.children.size === 0 && parent.lockRef === 0)
        heap.push(parent.lastAccess, parent);
    }
    this.counters.evictedTokens += removed;
    return removed;
  }

  /**
   * Indices of `requests` ordered by longest cached prefix first (SGLang's
   * longest-prefix-match policy); ties keep arrival order.
   */
  cacheAwareOrder(requests: readonly ArrayLike<number>[]): number[] {
    const lengths = requests.map((r) => this.peekPrefixLength(r));
    return requests.map((_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  }

  private node(parent: RadixNode<T> | undefined, key: number[], values: T[]): RadixNode<T> {
    return { parent, key, values, children: new Map(), lockRef: 0, lastAccess: this.clock };
  }

  private pageKey(tokens: ArrayLike<number>, pos: number): string {
    if (this.pageSize === 1) return String(tokens[pos]);
    let s = '';
    for (let i = 0; i < this.pageSize; i++) s += `${tokens[pos + i]},`;
    return s;
  }

  /** Equal whole pages between `key` and `tokens[pos, end)`, in tokens. */
  private commonLength(key: number[], tokens: ArrayLike<number>, pos: number, end: number): number {
    const n = Math.min(key.length, end - pos);
    let i = 0;
    while (i < n && key[i] === tokens[pos + i]) i++;
    return i - (i % this.pageSize);
  }

  /** Split `child` after `at` tokens; returns the new upper node. */
  private split(child: RadixNode<T>, at: number): RadixNode<T> {
    const parent = child.parent!;
    const upper = this.node(
      parent,
      child.key.slice(0, at),
      child.values.slice(0, at / this.pageSize),
    );
    upper.lockRef = child.lockRef;
    upper.lastAccess = child.lastAccess;
    parent.children.set(this.pageKey(upper.key, 0), upper);
    (child as { parent: RadixNode<T> }).parent = upper;
    child.key = child.key.slice(at);
    child.values = child.values.slice(at / this.pageSize);
    upper.children.set(this.pageKey(child.key, 0), child);
    return upper;
  }
}
