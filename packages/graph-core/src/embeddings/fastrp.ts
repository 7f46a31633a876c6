import type { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { normalizeRows, scaleRows, spmmDense } from './dense-ops.js';

/** Options of {@link fastRP}. */
export interface FastRPOptions {
  /** Embedding dimension (default 128). */
  readonly dim?: number;
  /** Weight α_i of the i-hop embedding, i = 1..k (default `[0, 1, 1]`, as Neo4j GDS). */
  readonly iterationWeights?: readonly number[];
  /** β in the degree normalisation `L = diag((d_j / 2m)^β)` (default 0 = none; the paper tunes β in [-1, 0]). */
  readonly normalizationStrength?: number;
  /** Sparsity s of the projection: entries are ±√s with probability 1/(2s) each (default 3, Achlioptas). */
  readonly sparsity?: number;
  /** PRNG seed (default 0). */
  readonly seed?: number;
}

/**
 * FastRP node embeddings (Chen et al., "Fast and Accurate Network Embeddings
 * via Very Sparse Random Projection", CIKM 2019): project the degree-scaled
 * identity with a very sparse random matrix R (Li, Hastie & Church 2006),
 * then propagate with the transition matrix `D^-1 A`:
 * `N_1 = A·L·R, N_i = A·N_{i-1}`, and return `Σ α_i · rownorm(N_i)`.
 * Returns a row-major `numNodes × dim` Float32Array.
 */
export function fastRP(graph: CsrGraph, options: FastRPOptions = {}): Float32Array {
  const dim = options.dim ?? 128;
  const alphas = options.iterationWeights ?? [0, 1, 1];
  const beta = options.normalizationStrength ?? 0;
  const s = options.sparsity ?? 3;
  if (!Number.isInteger(dim) || dim < 1)
    throw new GraphCoreError('embeddings', `dim must be a positive integer, got ${dim}`);
  if (alphas.length === 0)
    throw new GraphCoreError('embeddings', 'iterationWeights needs at least one weight');
  if (!(s >= 1)) throw new GraphCoreError('embeddings', `sparsity must be >= 1, got ${s}`);
  const n = graph.numNodes;
  const rng = new Rng(options.seed ?? 0);
  const deg = graph.weightedDegree();
  let total = 0;
  for (let u = 0; u < n; u++) total += deg[u]!;
  // R with the degree scaling L folded in: row j of L·R is L_jj · R_j.
  const cur = new Float32Array(n * dim);
  const val = Math.sqrt(s);
  const half = 1 / (2 * s);
  for (let j = 0; j < n; j++) {
    const scale = beta === 0 || total === 0 ? 1 : deg[j]! > 0 ? (deg[j]! / total) ** beta : 0;
    for (let c = 0; c < dim; c++) {
      const r = rng.next();
      if (r < half) cur[j * dim + c] = val * scale;
      else if (r < 2 * half) cur[j * dim + c] = -val * scale;
    }
  }
  // D^-1 A x as (A x) scaled by 1/d per row: unweighted graphs then need no multiplies in the product.
  const invDeg = Float64Array.from(deg, (d) => (d > 0 ? 1 / d : 0));
  const out = new Float32Array(n * dim);
  let next = new Float32Array(n * dim);
  let prev = cur;
  for (let i = 0; i < alphas.length; i++) {
    spmmDense(graph.indptr, graph.indices, graph.weights, prev, dim, next);
    scaleRows(next, dim, invDeg);
    const a = alphas[i]!;
    // prev is free after the product: normalise a copy only when it is used.
    if (a !== 0) {
      const normed = i + 1 < alphas.length ? next.slice() : next;
      normalizeRows(normed, dim);
      for (let k = 0; k < out.length; k++) out[k]! += a * normed[k]!;
    }
    const t = prev;
    prev = next;
    next = t;
  }
  return out;
}
