import type { CsrGraph } from '../../csr/csr-graph.js';

/**
 * The growing supernode hierarchy of SLUGGER plus the dynamic programme that
 * prices (and emits) the cheapest encoding of the edges between, or inside,
 * supernode trees. Supernodes are immutable once created, so costs of pairs
 * of existing supernodes are memoised for the whole run; only a tentative
 * merge (being priced) uses a scratch memo.
 *
 * Encoding of the pairs between disjoint supernodes A and B, in mode 0
 * (encode the edges with positive superedges) or mode 1 (under an ancestor's
 * positive cover, encode the non-edges with negative superedges):
 *   cnt = 0 → 0;  cnt = |A||B| → 1 superedge;  else
 *   F(A,B,m) = min(S(A,B,m), 1 + S(A,B,1-m))   (optionally cover, then fix the complement)
 *   S(A,B,m) = min over splitting A or B into its two children of the summed F.
 * Inside a supernode, I(A,m) = min(IS(A,m), 1 + IS(A,1-m)) with
 * IS(A,m) = I(A1,m) + I(A2,m) + F(A1,A2,m). Alternating signs keep every
 * pair's net cover in {0, 1}, so the output is always lossless.
 */
export class SupernodeForest {
  readonly n: number;
  readonly parent: number[] = [];
  readonly left: number[] = [];
  readonly right: number[] = [];
  readonly leaves: Int32Array[] = [];
  /** Root supernode of every node. */
  readonly rootOf: Int32Array;
  private readonly indptr: Int32Array;
  private readonly indices: Int32Array;
  private readonly stamp: Int32Array;
  private token = 0;
  private memo = new Map<number, number>();
  private scratch = new Map<number, number>();
  private tentative = -1;

  constructor(graph: CsrGraph) {
    this.n = graph.numNodes;
    this.indptr = graph.indptr;
    this.indices = graph.indices;
    this.stamp = new Int32Array(this.n);
    this.rootOf = Int32Array.from({ length: this.n }, (_, i) => i);
    for (let u = 0; u < this.n; u++) {
      this.parent.push(-1);
      this.left.push(-1);
      this.right.push(-1);
      this.leaves.push(Int32Array.of(u));
    }
  }

  /** Number of supernodes so far. */
  get size(): number {
    return this.parent.length;
  }

  /** Create a tentative root over roots a and b (priced, not yet linked). */
  propose(a: number, b: number): number {
    const la = this.leaves[a]!;
    const lb = this.leaves[b]!;
    const joined = new Int32Array(la.length + lb.length);
    joined.set(la);
    joined.set(lb, la.length);
    this.parent.push(-1);
    this.left.push(a);
    this.right.push(b);
    this.leaves.push(joined);
    this.tentative = this.parent.length - 1;
    this.scratch.clear();
    return this.tentative;
  }

  /** Keep the tentative supernode: link its children and move its pair costs to the shared memo. */
  commit(c: number): void {
    this.parent[this.left[c]!] = c;
    this.parent[this.right[c]!] = c;
    for (const u of this.leaves[c]!) this.rootOf[u] = c;
    for (const [k, v] of this.scratch) this.memo.set(k, v);
    this.scratch.clear();
    this.tentative = -1;
    // Bound memory on long runs; entries are recomputed on demand.
    if (this.memo.size > 4_000_000) this.memo.clear();
  }

  /** Drop the tentative supernode. */
  discard(c: number): void {
    if (c !== this.parent.length - 1) return;
    this.parent.pop();
    this.left.pop();
    this.right.pop();
    this.leaves.pop();
    this.scratch.clear();
    this.tentative = -1;
  }

  /** Roots other than r adjacent to some node of r. */
  neighbourRoots(r: number): Set<number> {
    const out = new Set<number>();
    for (const u of this.leaves[r]!) {
      for (let p = this.indptr[u]!; p < this.indptr[u + 1]!; p++) {
        const x = this.rootOf[this.indices[p]!]!;
        if (x !== r) out.add(x);
      }
    }
    return out;
  }

  /** Cheapest encoding size of the edges between disjoint supernodes a and b. */
  pairCost(a: number, b: number): number {
    return this.F(a, b, 0);
  }

  /** Cheapest encoding size of the edges inside supernode a (self loops excluded). */
  intraCost(a: number): number {
    return this.I(a, 0);
  }

  /** Append the superedges of the cheapest encoding between a and b. */
  emitPair(a: number, b: number, pos: number[], neg: number[]): void {
    this.emitF(a, b, 0, pos, neg);
  }

  /** Append the superedges of the cheapest encoding inside a. */
  emitIntra(a: number, pos: number[], neg: number[]): void {
    this.emitI(a, 0, pos, neg);
  }

  private key(tag: number, a: number, b: number, mode: number): number {
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    return ((lo * 2 ** 21 + hi) * 2 + mode) * 4 + tag;
  }

  private cached(tag: number, a: number, b: number, mode: number, compute: () => number): number {
    const k = this.key(tag, a, b, mode);
    const useScratch = a === this.tentative || b === this.tentative;
    const map = useScratch ? this.scratch : this.memo;
    let v = map.get(k);
    if (v === undefined) {
      v = compute();
      map.set(k, v);
    }
    return v;
  }

  /** Edges between disjoint supernodes a and b. */
  private edges(a: number, b: number): number {
    return this.cached(0, a, b, 0, () => {
      let [x, y] = [this.leaves[a]!, this.leaves[b]!];
      if (x.length > y.length) [x, y] = [y, x];
      const t = ++this.token;
      for (const v of y) this.stamp[v] = t;
      let e = 0;
      for (const u of x) {
        for (let p = this.indptr[u]!; p < this.indptr[u + 1]!; p++)
          if (this.stamp[this.indices[p]!] === t) e++;
      }
      return e;
    });
  }

  /** Edges inside supernode a between distinct nodes. */
  private edgesWithin(a: number): number {
    return this.cached(0, a, a, 1, () => {
      const t = ++this.token;
      const x = this.leaves[a]!;
      for (const v of x) this.stamp[v] = t;
      let e = 0;
      for (const u of x) {
        for (let p = this.indptr[u]!; p < this.indptr[u + 1]!; p++) {
          const v = this.indices[p]!;
          if (v > u && this.stamp[v] === t) e++;
        }
      }
      return e;
    });
  }

  private count(a: number, b: number, mode: number): [number, number] {
    const total = this.leaves[a]!.length * this.leaves[b]!.length;
    const e = this.edges(a, b);
    return [mode === 0 ? e : total - e, total];
  }

  private F(a: number, b: number, mode: number): number {
    return this.cached(1, a, b, mode, () => {
      const [cnt, total] = this.count(a, b, mode);
      if (cnt === 0) return 0;
      if (cnt === total) return 1;
      return Math.min(this.S(a, b, mode), 1 + this.S(a, b, 1 - mode));
    });
  }

  private S(a: number, b: number, mode: number): number {
    return this.cached(2, a, b, mode, () => {
      const [cnt, total] = this.count(a, b, mode);
      if (cnt === 0) return 0;
      if (cnt === total) return 1;
      return this.bestSplit(a, b, mode).cost;
    });
  }

  private bestSplit(a: number, b: number, mode: number): { cost: number; split: 'a' | 'b' } {
    let cost = Number.POSITIVE_INFINITY;
    let split: 'a' | 'b' = 'a';
    const a1 = this.left[a]!;
    if (a1 !== -1) {
      cost = this.F(a1, b, mode) + this.F(this.right[a]!, b, mode);
    }
    const b1 = this.left[b]!;
    if (b1 !== -1) {
      const c = this.F(a, b1, mode) + this.F(a, this.right[b]!, mode);
      if (c < cost) {
        cost = c;
        split = 'b';
      }
    }
    return { cost, split };
  }

  private intraCount(a: number, mode: number): [number, number] {
    const s = this.leaves[a]!.length;
    const total = (s * (s - 1)) / 2;
    const e = this.edgesWithin(a);
    return [mode === 0 ? e : total - e, total];
  }

  private I(a: number, mode: number): number {
    return this.cached(3, a, a, mode, () => {
      if (this.left[a] === -1) return 0;
      const [cnt, total] = this.intraCount(a, mode);
      if (cnt === 0) return 0;
      if (cnt === total) return 1;
      return Math.min(this.IS(a, mode), 1 + this.IS(a, 1 - mode));
    });
  }

  private IS(a: number, mode: number): number {
    const [cnt, total] = this.intraCount(a, mode);
    if (cnt === 0) return 0;
    if (cnt === total) return 1;
    const l = this.left[a]!;
    const r = this.right[a]!;
    return this.I(l, mode) + this.I(r, mode) + this.F(l, r, mode);
  }

  private push(a: number, b: number, mode: number, pos: number[], neg: number[]): void {
    (mode === 0 ? pos : neg).push(Math.min(a, b), Math.max(a, b));
  }

  private emitF(a: number, b: number, mode: number, pos: number[], neg: number[]): void {
    const [cnt, total] = this.count(a, b, mode);
    if (cnt === 0) return;
    if (cnt === total) {
      this.push(a, b, mode, pos, neg);
      return;
    }
    if (this.S(a, b, mode) <= 1 + this.S(a, b, 1 - mode)) {
      this.emitS(a, b, mode, pos, neg);
      return;
    }
    this.push(a, b, mode, pos, neg);
    this.emitS(a, b, 1 - mode, pos, neg);
  }

  private emitS(a: number, b: number, mode: number, pos: number[], neg: number[]): void {
    const [cnt, total] = this.count(a, b, mode);
    if (cnt === 0) return;
    if (cnt === total) {
      this.push(a, b, mode, pos, neg);
      return;
    }
    if (this.bestSplit(a, b, mode).split === 'a') {
      this.emitF(this.left[a]!, b, mode, pos, neg);
      this.emitF(this.right[a]!, b, mode, pos, neg);
    } else {
      this.emitF(a, this.left[b]!, mode, pos, neg);
      this.emitF(a, this.right[b]!, mode, pos, neg);
    }
  }

  private emitI(a: number, mode: number, pos: number[], neg: number[]): void {
    if (this.left[a] === -1) return;
    const [cnt, total] = this.intraCount(a, mode);
    if (cnt === 0) return;
    if (cnt === total) {
      this.push(a, a, mode, pos, neg);
      return;
    }
    if (this.IS(a, mode) <= 1 + this.IS(a, 1 - mode)) {
      this.emitIS(a, mode, pos, neg);
      return;
    }
    this.push(a, a, mode, pos, neg);
    this.emitIS(a, 1 - mode, pos, neg);
  }

  private emitIS(a: number, mode: number, pos: number[], neg: number[]): void {
    const [cnt, total] = this.intraCount(a, mode);
    if (cnt === 0) return;
    if (cnt === total) {
      this.push(a, a, mode, pos, neg);
      return;
    }
    const l = this.left[a]!;
    const r = this.right[a]!;
    this.emitI(l, mode, pos, neg);
    this.emitI(r, mode, pos, neg);
    this.emitF(l, r, mode, pos, neg);
  }
}
