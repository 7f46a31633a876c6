/**
 * Link storage of an HNSW graph in SharedArrayBuffers, so worker threads can
 * build one graph together. Each list is `[count, id0, id1, ...]`:
 * level 0 has room for M0 links per node in one flat array (the hot path of
 * every search), and the few nodes on higher levels get `(M + 1)`-int blocks
 * per level from a pool, located by `upperOffset`.
 */

/** Indices into {@link Graph.globals}. */
export const G_ENTRY = 0;
export const G_MAX_LEVEL = 1;
export const G_NEXT_TASK = 2;
export const G_LOCK = 3;
export const G_UPPER_USED = 4;
const GLOBALS = 8;

/** The buffers of a graph; posted to workers to share it. */
export interface GraphBuffers {
  readonly level0: SharedArrayBuffer;
  readonly levels: SharedArrayBuffer;
  readonly upperOffset: SharedArrayBuffer;
  readonly upperPool: SharedArrayBuffer;
  readonly locks: SharedArrayBuffer;
  readonly globals: SharedArrayBuffer;
}

/** Graph sizes: fixed for the life of its buffers. */
export interface GraphShape {
  readonly capacity: number;
  readonly M: number;
  readonly M0: number;
}

const sab = (ints: number): SharedArrayBuffer => new SharedArrayBuffer(Math.max(1, ints) * 4);

/** HNSW adjacency lists in shared memory. */
export class Graph {
  readonly capacity: number;
  readonly M: number;
  readonly M0: number;
  /** Ints per level-0 list: count plus M0 ids. */
  readonly stride0: number;
  /** Ints per upper-level list: count plus M ids. */
  readonly strideUp: number;
  readonly level0: Int32Array;
  readonly levels: Uint8Array;
  /** Int offset of a node's level-1 list in the pool; -1 for level-0-only nodes. */
  readonly upperOffset: Int32Array;
  upperPool: Int32Array;
  /** Per-node spin locks, used only by parallel builds. */
  readonly locks: Int32Array;
  /** Entry point, max level, task counter, global lock, pool use. */
  readonly globals: Int32Array;

  constructor(shape: GraphShape, buffers?: GraphBuffers) {
    this.capacity = shape.capacity;
    this.M = shape.M;
    this.M0 = shape.M0;
    this.stride0 = shape.M0 + 1;
    this.strideUp = shape.M + 1;
    const b = buffers ?? {
      level0: sab(shape.capacity * this.stride0),
      levels: new SharedArrayBuffer(Math.max(1, shape.capacity)),
      upperOffset: sab(shape.capacity),
      // Expected upper levels per node are 1/(M-1); start with room for twice that.
      upperPool: sab(
        Math.ceil((shape.capacity * 2 * this.strideUp) / Math.max(1, shape.M - 1)) + 64,
      ),
      locks: sab(shape.capacity),
      globals: sab(GLOBALS),
    };
    this.level0 = new Int32Array(b.level0);
    this.levels = new Uint8Array(b.levels);
    this.upperOffset = new Int32Array(b.upperOffset);
    this.upperPool = new Int32Array(b.upperPool);
    this.locks = new Int32Array(b.locks);
    this.globals = new Int32Array(b.globals);
    if (!buffers) {
      this.upperOffset.fill(-1);
      this.globals[G_ENTRY] = -1;
      this.globals[G_MAX_LEVEL] = -1;
    }
  }

  /** The buffers, for posting to a worker. */
  get buffers(): GraphBuffers {
    return {
      level0: this.level0.buffer as SharedArrayBuffer,
      levels: this.levels.buffer as SharedArrayBuffer,
      upperOffset: this.upperOffset.buffer as SharedArrayBuffer,
      upperPool: this.upperPool.buffer as SharedArrayBuffer,
      locks: this.locks.buffer as SharedArrayBuffer,
      globals: this.globals.buffer as SharedArrayBuffer,
    };
  }

  /** Bytes held by the link buffers. */
  get byteLength(): number {
    return (
      this.level0.byteLength +
      this.levels.byteLength +
      this.upperOffset.byteLength +
      this.globals[G_UPPER_USED]! * 4 +
      this.locks.byteLength
    );
  }

  /**
   * Give node `id` level `level` with empty lists. Nodes that already have
   * upper storage keep it when the level does not change (slot reuse).
   */
  assignLevel(id: number, level: number): void {
    this.levels[id] = level;
    this.level0[id * this.stride0] = 0;
    if (level === 0) {
      this.upperOffset[id] = -1;
      return;
    }
    const need = level * this.strideUp;
    let used = this.globals[G_UPPER_USED]!;
    if (used + need > this.upperPool.length) {
      const next = new Int32Array(
        new SharedArrayBuffer(Math.max(used + need, this.upperPool.length * 2) * 4),
      );
      next.set(this.upperPool.subarray(0, used));
      this.upperPool = next;
    }
    this.upperOffset[id] = used;
    for (let l = 0; l < level; l++) this.upperPool[used + l * this.strideUp] = 0;
    used += need;
    this.globals[G_UPPER_USED] = used;
  }

  /** Int offset of node `id`'s list on `level` in {@link listArray}(level). */
  listOffset(id: number, level: number): number {
    return level === 0 ? id * this.stride0 : this.upperOffset[id]! + (level - 1) * this.strideUp;
  }

  /** The array holding the lists of `level`. */
  listArray(level: number): Int32Array {
    return level === 0 ? this.level0 : this.upperPool;
  }

  /** Most links a node keeps on `level`: M0 on level 0, M above. */
  maxLinks(level: number): number {
    return level === 0 ? this.M0 : this.M;
  }

  /** A graph with room for `capacity` nodes holding the first `count` nodes of this one. */
  resized(capacity: number, count: number): Graph {
    const next = new Graph({ capacity, M: this.M, M0: this.M0 });
    next.level0.set(this.level0.subarray(0, count * this.stride0));
    next.levels.set(this.levels.subarray(0, count));
    next.upperOffset.set(this.upperOffset.subarray(0, count));
    const used = this.globals[G_UPPER_USED]!;
    if (used > next.upperPool.length) {
      next.upperPool = new Int32Array(new SharedArrayBuffer(used * 2 * 4));
    }
    next.upperPool.set(this.upperPool.subarray(0, used));
    next.globals.set(this.globals);
    return next;
  }

  /** Spin until node `id`'s lock is ours (parallel builds only; critical sections are short). */
  lock(id: number): void {
    while (Atomics.compareExchange(this.locks, id, 0, 1) !== 0) {
      // Spin: the holder is copying or rewriting one list of at most M0 ids.
    }
  }

  /** Release node `id`'s lock. */
  unlock(id: number): void {
    Atomics.store(this.locks, id, 0);
  }
}
