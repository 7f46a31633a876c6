/**
 * Binary heaps of (distance, id) pairs on typed arrays. The search loop pushes
 * and pops millions of pairs per second; objects or tuples would allocate on
 * every push, typed arrays do not.
 */

/** Min-heap by distance: the candidate queue of the layer search. */
export class MinHeap {
  keys: Float32Array;
  ids: Int32Array;
  size = 0;

  constructor(initial = 256) {
    this.keys = new Float32Array(initial);
    this.ids = new Int32Array(initial);
  }

  /** Empty the heap, keeping its arrays. */
  clear(): void {
    this.size = 0;
  }

  /** Distance of the nearest entry; only valid when size > 0. */
  topKey(): number {
    return this.keys[0]!;
  }

  /** Id of the top entry; only valid when size > 0. */
  topId(): number {
    return this.ids[0]!;
  }

  /** Add a (distance, id) pair, growing the arrays when full. */
  push(key: number, id: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const ids = this.ids;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk <= key) break;
      keys[i] = pk;
      ids[i] = ids[parent]!;
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }

  /** Remove the nearest entry. */
  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const keys = this.keys;
    const ids = this.ids;
    const key = keys[n]!;
    const id = ids[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1]! < keys[child]!) child++;
      const ck = keys[child]!;
      if (ck >= key) break;
      keys[i] = ck;
      ids[i] = ids[child]!;
      i = child;
    }
    keys[i] = key;
    ids[i] = id;
  }

  private grow(): void {
    const keys = new Float32Array(this.keys.length * 2);
    keys.set(this.keys);
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    this.keys = keys;
    this.ids = ids;
  }
}

/** Max-heap by distance: the result set W, whose top is the worst kept result. */
export class MaxHeap {
  keys: Float32Array;
  ids: Int32Array;
  size = 0;

  constructor(initial = 256) {
    this.keys = new Float32Array(initial);
    this.ids = new Int32Array(initial);
  }

  /** Empty the heap, keeping its arrays. */
  clear(): void {
    this.size = 0;
  }

  /** Distance of the farthest entry; only valid when size > 0. */
  topKey(): number {
    return this.keys[0]!;
  }

  /** Id of the top entry; only valid when size > 0. */
  topId(): number {
    return this.ids[0]!;
  }

  /** Add a (distance, id) pair, growing the arrays when full. */
  push(key: number, id: number): void {
    if (this.size === this.keys.length) this.grow();
    const keys = this.keys;
    const ids = this.ids;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk >= key) break;
      keys[i] = pk;
      ids[i] = ids[parent]!;
      i = parent;
    }
    keys[i] = key;
    ids[i] = id;
  }

  /** Remove the farthest entry. */
  pop(): void {
    const n = --this.size;
    if (n === 0) return;
    const keys = this.keys;
    const ids = this.ids;
    const key = keys[n]!;
    const id = ids[n]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && keys[child + 1]! > keys[child]!) child++;
      const ck = keys[child]!;
      if (ck <= key) break;
      keys[i] = ck;
      ids[i] = ids[child]!;
      i = child;
    }
    keys[i] = key;
    ids[i] = id;
  }

  /**
   * Empty the heap into `ids`/`keys`, nearest first; returns the count.
   * The output arrays must hold `size` entries.
   */
  drainAscending(ids: Int32Array, keys: Float32Array): number {
    const n = this.size;
    for (let i = n - 1; i >= 0; i--) {
      ids[i] = this.ids[0]!;
      keys[i] = this.keys[0]!;
      this.pop();
    }
    return n;
  }

  private grow(): void {
    const keys = new Float32Array(this.keys.length * 2);
    keys.set(this.keys);
    const ids = new Int32Array(this.ids.length * 2);
    ids.set(this.ids);
    this.keys = keys;
    this.ids = ids;
  }
}
