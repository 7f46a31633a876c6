import type { CsrGraph } from '../csr/csr-graph.js';

/**
 * Core number of every node (Batagelj & Zaversnik, "An O(m) Algorithm for
 * Cores Decomposition of Networks", 2003). Self loops are ignored;
 * multi-edges count with multiplicity; for directed graphs the degree is
 * in + out, as networkx does.
 *
 * Runs level-synchronous peeling first (PKC: Kabir & Madduri, "Parallel
 * k-Core Decomposition on Multicore Platforms", 2017), which touches one
 * random cache line per arc instead of the bucket swaps of Batagelj &
 * Zaversnik. Its level scans cost Σ|remaining nodes| per level, so when that
 * exceeds a budget of 2(n + m) it restarts with the bucket algorithm: the
 * whole stays O(n + m).
 */
export function coreNumbers(graph: CsrGraph): Int32Array {
  const n = graph.numNodes;
  // For directed graphs peel on the union of out- and in-arcs.
  const adj = graph.directed
    ? symmetricArcs(graph)
    : { indptr: graph.indptr, indices: graph.indices };
  const ip = adj.indptr;
  const ix = adj.indices;
  const deg = new Int32Array(n);
  for (let u = 0; u < n; u++) {
    let d = ip[u + 1]! - ip[u]!;
    for (let p = ip[u]!; p < ip[u + 1]!; p++) if (ix[p] === u) d--;
    deg[u] = d;
  }
  const peeled = levelPeel(n, ip, ix, deg.slice(), 2 * (n + ix.length));
  return peeled ?? bucketPeel(n, ip, ix, deg);
}

/** @internal PKC-style peeling; `undefined` when the scan budget runs out. */
export function levelPeel(
  n: number,
  ip: Int32Array,
  ix: Int32Array,
  deg: Int32Array,
  budget: number,
): Int32Array | undefined {
  let remaining = new Int32Array(n);
  for (let u = 0; u < n; u++) remaining[u] = u;
  let numRemaining = n;
  let spare = new Int32Array(n);
  const buffer = new Int32Array(n);
  let scanned = 0;
  while (numRemaining > 0) {
    // Next level = smallest remaining degree; collect its nodes and compact the rest.
    let k = 0x7fffffff;
    for (let i = 0; i < numRemaining; i++) {
      const d = deg[remaining[i]!]!;
      if (d < k) k = d;
    }
    let size = 0;
    let kept = 0;
    for (let i = 0; i < numRemaining; i++) {
      const v = remaining[i]!;
      if (deg[v] === k) buffer[size++] = v;
      else spare[kept++] = v;
    }
    scanned += 2 * numRemaining;
    if (scanned > budget) return undefined;
    // Peel the level: neighbours that drop to k join it.
    for (let b = 0; b < size; b++) {
      const v = buffer[b]!;
      const end = ip[v + 1]!;
      for (let p = ip[v]!; p < end; p++) {
        const u = ix[p]!;
        const du = deg[u]!;
        if (du > k && u !== v) {
          deg[u] = du - 1;
          if (du - 1 === k) buffer[size++] = u;
        }
      }
    }
    // Nodes pulled into this level are still listed in `spare`; drop them.
    let live = 0;
    for (let i = 0; i < kept; i++) {
      const v = spare[i]!;
      if (deg[v]! > k) spare[live++] = v;
    }
    scanned += kept;
    const t = remaining;
    remaining = spare;
    spare = t;
    numRemaining = live;
  }
  return deg;
}

/** @internal Batagelj–Zaversnik bucket peeling on precomputed degrees (overwritten with core numbers). */
export function bucketPeel(n: number, ip: Int32Array, ix: Int32Array, deg: Int32Array): Int32Array {
  let maxDeg = 0;
  for (let u = 0; u < n; u++) if (deg[u]! > maxDeg) maxDeg = deg[u]!;
  // bin[d] = first position of degree-d nodes in `vert`; pos[u] = u's position.
  const bin = new Int32Array(maxDeg + 1);
  for (let u = 0; u < n; u++) bin[deg[u]!]!++;
  let start = 0;
  for (let d = 0; d <= maxDeg; d++) {
    const c = bin[d]!;
    bin[d] = start;
    start += c;
  }
  const vert = new Int32Array(n);
  const pos = new Int32Array(n);
  for (let u = 0; u < n; u++) {
    const p = bin[deg[u]!]!++;
    pos[u] = p;
    vert[p] = u;
  }
  for (let d = maxDeg; d > 0; d--) bin[d] = bin[d - 1]!;
  bin[0] = 0;
  for (let i = 0; i < n; i++) {
    const v = vert[i]!;
    const dv = deg[v]!;
    for (let p = ip[v]!; p < ip[v + 1]!; p++) {
      const u = ix[p]!;
      const du = deg[u]!;
      if (u === v || du <= dv) continue;
      // Swap u with the first node of its bucket, then shrink the bucket.
      const pu = pos[u]!;
      const pw = bin[du]!;
      const w = vert[pw]!;
      if (u !== w) {
        pos[u] = pw;
        vert[pu] = w;
        pos[w] = pu;
        vert[pw] = u;
      }
      bin[du]!++;
      deg[u] = du - 1;
    }
  }
  return deg;
}

/** Out-arcs plus in-arcs per node, for directed peeling. */
function symmetricArcs(graph: CsrGraph): { indptr: Int32Array; indices: Int32Array } {
  const n = graph.numNodes;
  const t = graph.transpose();
  const indptr = new Int32Array(n + 1);
  for (let u = 0; u < n; u++) {
    indptr[u + 1] =
      indptr[u]! + (graph.indptr[u + 1]! - graph.indptr[u]!) + (t.indptr[u + 1]! - t.indptr[u]!);
  }
  const indices = new Int32Array(indptr[n]!);
  for (let u = 0; u < n; u++) {
    const a = graph.indices.subarray(graph.indptr[u]!, graph.indptr[u + 1]!);
    indices.set(a, indptr[u]!);
    indices.set(t.indices.subarray(t.indptr[u]!, t.indptr[u + 1]!), indptr[u]! + a.length);
  }
  return { indptr, indices };
}

/** Nodes of the k-core (core number ≥ k), ascending. */
export function kCoreNodes(
  graph: CsrGraph,
  k: number,
  cores: Int32Array = coreNumbers(graph),
): Int32Array {
  let c = 0;
  for (let u = 0; u < cores.length; u++) if (cores[u]! >= k) c++;
  const out = new Int32Array(c);
  c = 0;
  for (let u = 0; u < cores.length; u++) if (cores[u]! >= k) out[c++] = u;
  return out;
}
