import { GraphCoreError } from '../errors.js';

/** What to do with edges `(u, u)` when building a graph. */
export type SelfLoopPolicy = 'keep' | 'drop';

/** How duplicate edges are merged when `dedupe` is on. */
export type DuplicateWeightMerge = 'first' | 'sum' | 'max' | 'min';

/** Options for building a graph from an edge list. */
export interface FromEdgesOptions {
  /** Directed graph (default `false`: each edge is stored in both directions). */
  readonly directed?: boolean;
  /** One weight per input edge; absent means unweighted (all ones). */
  readonly weights?: ArrayLike<number>;
  /** Merge repeated `(u, v)` arcs into one (default `false`: multi-edges are kept). */
  readonly dedupe?: boolean;
  /** How weights of merged duplicates combine (default `'first'`, in input order). */
  readonly mergeWeights?: DuplicateWeightMerge;
  /** Keep or drop self loops (default `'keep'`). An undirected self loop is stored once. */
  readonly selfLoops?: SelfLoopPolicy;
}

/** Raw CSR arrays produced by the builders. */
export interface BuiltCsr {
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly weights: Float32Array | undefined;
}

/**
 * Build sorted CSR arrays from COO arcs in O(n + m) with two stable counting
 * sorts (by destination, then by source), instead of an O(m log m) comparison
 * sort: this is the hot path of every loader and generator. Ties keep input
 * order, which is what makes `mergeWeights: 'first'` well defined.
 */
export function buildCsrFromEdges(
  numNodes: number,
  src: ArrayLike<number>,
  dst: ArrayLike<number>,
  options: FromEdgesOptions = {},
): BuiltCsr {
  const {
    directed = false,
    weights,
    dedupe = false,
    mergeWeights = 'first',
    selfLoops = 'keep',
  } = options;
  if (!Number.isInteger(numNodes) || numNodes < 0 || numNodes > 0x7ffffffe) {
    throw new GraphCoreError('csr', `numNodes must be a non-negative int32, got ${numNodes}`);
  }
  const m = src.length;
  if (dst.length !== m) {
    throw new GraphCoreError(
      'csr',
      `src and dst must have the same length, got ${m} and ${dst.length}`,
    );
  }
  if (weights !== undefined && weights.length !== m) {
    throw new GraphCoreError(
      'csr',
      `weights must have one entry per edge: expected ${m}, got ${weights.length}`,
    );
  }
  // Count arcs per destination while validating; undirected edges add both arcs.
  const countDst = new Int32Array(numNodes + 1);
  let arcs = 0;
  for (let e = 0; e < m; e++) {
    const u = src[e]!;
    const v = dst[e]!;
    if (!(u >= 0 && u < numNodes && (u | 0) === u)) {
      throw new GraphCoreError(
        'csr',
        `source id ${u} of edge ${e} is out of range [0, ${numNodes})`,
      );
    }
    if (!(v >= 0 && v < numNodes && (v | 0) === v)) {
      throw new GraphCoreError(
        'csr',
        `target id ${v} of edge ${e} is out of range [0, ${numNodes})`,
      );
    }
    if (u === v) {
      if (selfLoops === 'drop') continue;
      countDst[v + 1]!++;
      arcs++;
    } else if (directed) {
      countDst[v + 1]!++;
      arcs++;
    } else {
      countDst[v + 1]!++;
      countDst[u + 1]!++;
      arcs += 2;
    }
  }
  for (let i = 0; i < numNodes; i++) countDst[i + 1]! += countDst[i]!;
  // Pass 1: arcs grouped by destination (stable), remembering their source and edge id.
  const bySrc = new Int32Array(arcs);
  const byEdge = weights === undefined ? undefined : new Int32Array(arcs);
  const outCount = new Int32Array(numNodes + 1);
  const next = countDst;
  for (let e = 0; e < m; e++) {
    const u = src[e]!;
    const v = dst[e]!;
    if (u === v && selfLoops === 'drop') continue;
    let p = next[v]!++;
    bySrc[p] = u;
    if (byEdge !== undefined) byEdge[p] = e;
    outCount[u + 1]!++;
    if (!directed && u !== v) {
      p = next[u]!++;
      bySrc[p] = v;
      if (byEdge !== undefined) byEdge[p] = e;
      outCount[v + 1]!++;
    }
  }
  // After pass 1, `next[v]` is the end of v's block, so block v is [next[v-1], next[v]).
  const indptr = outCount;
  for (let i = 0; i < numNodes; i++) indptr[i + 1]! += indptr[i]!;
  const fill = indptr.slice(0, numNodes);
  const indices = new Int32Array(arcs);
  const w = weights === undefined ? undefined : new Float32Array(arcs);
  // Pass 2: scatter by source, visiting destinations in increasing order, so every row ends sorted.
  let start = 0;
  for (let v = 0; v < numNodes; v++) {
    const end = next[v]!;
    for (let p = start; p < end; p++) {
      const q = fill[bySrc[p]!]!++;
      indices[q] = v;
      if (w !== undefined) w[q] = weights![byEdge![p]!]!;
    }
    start = end;
  }
  if (!dedupe) return { indptr, indices, weights: w };
  return dedupeSorted(numNodes, indptr, indices, w, mergeWeights);
}

/** Merge runs of equal neighbours in sorted rows, in place, combining weights. */
function dedupeSorted(
  numNodes: number,
  indptr: Int32Array,
  indices: Int32Array,
  w: Float32Array | undefined,
  merge: DuplicateWeightMerge,
): BuiltCsr {
  let out = 0;
  let start = 0;
  for (let u = 0; u < numNodes; u++) {
    const end = indptr[u + 1]!;
    for (let p = start; p < end; p++) {
      const v = indices[p]!;
      if (p > start && v === indices[out - 1]) {
        if (w !== undefined) {
          const a = w[out - 1]!;
          const b = w[p]!;
          if (merge === 'sum') w[out - 1] = a + b;
          else if (merge === 'max') w[out - 1] = Math.max(a, b);
          else if (merge === 'min') w[out - 1] = Math.min(a, b);
        }
        continue;
      }
      indices[out] = v;
      if (w !== undefined) w[out] = w[p]!;
      out++;
    }
    start = end;
    indptr[u + 1] = out;
  }
  return {
    indptr,
    indices: out === indices.length ? indices : indices.slice(0, out),
    weights: w === undefined || out === w.length ? w : w.slice(0, out),
  };
}

/** Throws unless the arrays form a valid CSR adjacency with sorted rows. */
export function validateCsrAdjacency(
  numNodes: number,
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array | undefined,
): void {
  if (!(indptr instanceof Int32Array) || !(indices instanceof Int32Array)) {
    throw new GraphCoreError('csr', 'indptr and indices must be Int32Arrays');
  }
  if (indptr.length !== numNodes + 1 || indptr[0] !== 0) {
    throw new GraphCoreError(
      'csr',
      `indptr must have numNodes + 1 entries starting at 0, got length ${indptr.length}`,
    );
  }
  if (indices.length !== indptr[numNodes]) {
    throw new GraphCoreError(
      'csr',
      `indices has ${indices.length} entries but indptr[numNodes] = ${indptr[numNodes]}`,
    );
  }
  if (
    weights !== undefined &&
    (!(weights instanceof Float32Array) || weights.length !== indices.length)
  ) {
    throw new GraphCoreError(
      'csr',
      `weights must be a Float32Array with ${indices.length} entries`,
    );
  }
  for (let u = 0; u < numNodes; u++) {
    const a = indptr[u]!;
    const b = indptr[u + 1]!;
    if (b < a) throw new GraphCoreError('csr', `indptr must be non-decreasing at node ${u}`);
    for (let p = a; p < b; p++) {
      const v = indices[p]!;
      if (v < 0 || v >= numNodes) {
        throw new GraphCoreError(
          'csr',
          `neighbour ${v} of node ${u} is out of range [0, ${numNodes})`,
        );
      }
      if (p > a && v < indices[p - 1]!) {
        throw new GraphCoreError('csr', `neighbours of node ${u} must be sorted ascending`);
      }
    }
  }
}
