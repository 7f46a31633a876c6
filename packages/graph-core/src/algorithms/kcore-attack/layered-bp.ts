import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import type { Rng } from '../../random/rng.js';

/**
 * Belief propagation for the layered static model of K-core pruning used by
 * our hCTGA (our own model: a state per pruning round, not the coarse-grained
 * cycle-tree packing of Zhou & Zhou 2023, whose equations we could not read). Every vertex i of the current core takes a state
 * t_i ∈ {0, 1..H}: 0 = deleted by the attacker, h ≥ 1 = pruned in round h of
 * synchronous K-core pruning. The local constraint is
 * `#{ j ∈ ∂i : t_j ≥ t_i } ≤ K - 1` for t_i ≥ 1 (when round t_i starts, at
 * most K-1 neighbours are left, counting those pruned in the same round), and
 * a deleted vertex costs weight e^{-x}. A deleted set admits an assignment
 * satisfying every constraint exactly when it empties the K-core within H
 * rounds of pruning (induction over rounds), so the marginal P(t_i = 0) at
 * large x says how likely vertex i is to belong to a small attack set.
 *
 * The cavity message on arc i→j is q_{i→j}(t_i, b) where b = 1 when j is
 * pruned no earlier than i (so j counts against i's constraint). It is stored
 * as 2H+1 numbers: [t=0, (t=1,b=0), (t=1,b=1), …, (t=H,b=0), (t=H,b=1)].
 */
export class LayeredKCoreBp {
  private readonly n: number;
  private readonly indptr: Int32Array;
  private readonly indices: Int32Array;
  /** Reverse arc of each arc (-1 for self loops). */
  private readonly rev: Int32Array;
  private readonly stride: number;
  private readonly msg: Float64Array;
  private readonly weight0: number;
  // Scratch, sized by the maximum degree.
  private readonly rSum: Float64Array;
  private readonly no: Float64Array;
  private readonly yes: Float64Array;
  private readonly nbrArcs: Int32Array;
  private readonly poly: Float64Array;
  private readonly fresh: Float64Array;

  constructor(
    graph: CsrGraph,
    private readonly k: number,
    private readonly layers: number,
    x: number,
    private readonly damping: number,
    private readonly active: Uint8Array,
    rng: Rng,
  ) {
    if (!Number.isInteger(layers) || layers < 1) {
      throw new GraphCoreError(
        'algorithms/kcore-attack',
        `layers must be a positive integer, got ${layers}`,
      );
    }
    this.n = graph.numNodes;
    this.indptr = graph.indptr;
    this.indices = graph.indices;
    this.rev = reverseArcs(graph);
    this.stride = 2 * layers + 1;
    this.weight0 = Math.exp(-x);
    const m = graph.numEdges;
    this.msg = new Float64Array(m * this.stride);
    // Random positive start so that the symmetric fixed point of regular graphs is left.
    for (let i = 0; i < this.msg.length; i++) this.msg[i] = 0.5 + rng.next();
    for (let p = 0; p < m; p++) normalise(this.msg, p * this.stride, this.stride);
    let maxDeg = 0;
    for (let u = 0; u < this.n; u++)
      maxDeg = Math.max(maxDeg, this.indptr[u + 1]! - this.indptr[u]!);
    this.rSum = new Float64Array(maxDeg);
    this.no = new Float64Array(maxDeg * (layers + 1));
    this.yes = new Float64Array(maxDeg * (layers + 1));
    this.nbrArcs = new Int32Array(maxDeg);
    this.poly = new Float64Array(k + 1);
    this.fresh = new Float64Array(this.stride);
  }

  /** Sequential BP sweeps over the active vertices in the order given. */
  sweep(order: Int32Array): void {
    for (const i of order) if (this.active[i] === 1) this.updateVertex(i);
  }

  /** P(t_i = 0) for an active vertex i: the belief that i is deleted. */
  deletionMarginal(i: number): number {
    const d = this.gather(i);
    let p0 = this.weight0;
    for (let a = 0; a < d; a++) p0 *= this.rSum[a]!;
    let pKept = 0;
    for (let t = 1; t <= this.layers; t++) pKept += this.constrained(d, -1, t, this.k - 1);
    const z = p0 + pKept;
    return z > 0 ? p0 / z : 0;
  }

  /** Fill the per-neighbour sums for the active neighbours of i; returns their count. */
  private gather(i: number): number {
    const H = this.layers;
    const s = this.stride;
    let d = 0;
    for (let p = this.indptr[i]!; p < this.indptr[i + 1]!; p++) {
      const k = this.indices[p]!;
      const r = this.rev[p]!;
      if (r < 0 || this.active[k] === 0) continue;
      const o = r * s;
      const msg = this.msg;
      // r: i deleted, so i never counts for k: k's b must be 0 (or k deleted).
      let rs = msg[o]!;
      for (let t = 1; t <= H; t++) rs += msg[o + 2 * t - 1]!;
      this.rSum[d] = rs;
      // no[t]: k does not count for i (k deleted, or pruned before t; then i counts for k).
      // yes[t]: k counts for i (pruned at t: both count; after t: i pruned earlier).
      const base = d * (H + 1);
      let below = msg[o]!;
      let above = 0;
      for (let t = H; t >= 1; t--) {
        this.yes[base + t] = msg[o + 2 * t]! + above;
        above += msg[o + 2 * t - 1]!;
      }
      for (let t = 1; t <= H; t++) {
        this.no[base + t] = below;
        below += msg[o + 2 * t]!;
      }
      this.nbrArcs[d] = p;
      d++;
    }
    return d;
  }

  /**
   * Weight that at most `limit` of the gathered neighbours (except index
   * `skip`) count against a vertex in layer t: truncated product of (no + yes·z).
   */
  private constrained(d: number, skip: number, t: number, limit: number): number {
    if (limit < 0) return 0;
    const poly = this.poly;
    poly.fill(0);
    poly[0] = 1;
    const H1 = this.layers + 1;
    for (let a = 0; a < d; a++) {
      if (a === skip) continue;
      const no = this.no[a * H1 + t]!;
      const yes = this.yes[a * H1 + t]!;
      for (let c = limit; c >= 1; c--) poly[c] = poly[c]! * no + poly[c - 1]! * yes;
      poly[0] = poly[0]! * no;
    }
    let sum = 0;
    for (let c = 0; c <= limit; c++) sum += poly[c]!;
    return sum;
  }

  private updateVertex(i: number): void {
    const d = this.gather(i);
    const s = this.stride;
    const fresh = this.fresh;
    for (let a = 0; a < d; a++) {
      let q0 = this.weight0;
      for (let b = 0; b < d; b++) if (b !== a) q0 *= this.rSum[b]!;
      fresh[0] = q0;
      for (let t = 1; t <= this.layers; t++) {
        fresh[2 * t - 1] = this.constrained(d, a, t, this.k - 1);
        fresh[2 * t] = this.constrained(d, a, t, this.k - 2);
      }
      let z = 0;
      for (let c = 0; c < s; c++) z += fresh[c]!;
      if (!(z > 0)) continue; // all states forbidden: keep the old message
      const o = this.nbrArcs[a]! * s;
      const g = this.damping;
      for (let c = 0; c < s; c++)
        this.msg[o + c] = g * this.msg[o + c]! + ((1 - g) * fresh[c]!) / z;
    }
  }
}

function normalise(a: Float64Array, offset: number, len: number): void {
  let z = 0;
  for (let c = 0; c < len; c++) z += a[offset + c]!;
  for (let c = 0; c < len; c++) a[offset + c]! /= z;
}

/**
 * Reverse arc of every arc of an undirected CSR graph (-1 for self loops).
 * Rows are sorted, so when u runs upwards the arcs u→v (u < v) meet v's row
 * entries equal to u in order; a cursor per row pairs them, multi-edges too.
 */
export function reverseArcs(graph: CsrGraph): Int32Array {
  const { indptr, indices } = graph;
  const n = graph.numNodes;
  const rev = new Int32Array(graph.numEdges).fill(-1);
  const cursor = indptr.slice(0, n);
  for (let u = 0; u < n; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (v <= u) continue;
      const q = cursor[v]!;
      if (indices[q] !== u) {
        throw new GraphCoreError(
          'algorithms',
          `graph is not symmetric: arc ${u}->${v} has no reverse`,
        );
      }
      cursor[v] = q + 1;
      rev[p] = q;
      rev[q] = p;
    }
  }
  return rev;
}
