import type { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { connectedComponents } from '../traversal/components.js';
import { lanczosLargestLocked } from './lanczos.js';

/** Options of {@link laplacianPE}. */
export interface LaplacianPEOptions {
  /**
   * `'canonical'` (default): the largest-magnitude entry of each eigenvector
   * is positive (lowest index wins near-ties), so results are reproducible.
   * `'random'`: additionally flip each vector's sign with probability 1/2
   * (seeded), the training-time augmentation of Dwivedi et al.
   */
  readonly sign?: 'canonical' | 'random';
  /** Seed for the Lanczos start vectors and random sign flips (default 0). */
  readonly seed?: number;
  /** Residual tolerance of the eigenpairs (default 1e-8). */
  readonly tol?: number;
}

/** Laplacian positional encodings and their eigenvalues. */
export interface LaplacianPE {
  /** Row-major `numNodes × k`; column j is the j-th smallest non-trivial eigenvector. Zero-padded past the spectrum. */
  readonly pe: Float32Array;
  /** Eigenvalue of each column (ascending); `NaN` for padded columns. */
  readonly eigenvalues: Float64Array;
  /** Number of columns k. */
  readonly k: number;
}

/**
 * Laplacian eigenvector positional encodings (Dwivedi et al., "Benchmarking
 * Graph Neural Networks", JMLR 2023; Dwivedi & Bresson 2021): the k
 * eigenvectors of the normalized Laplacian `L = I - D^-1/2 A D^-1/2` with the
 * smallest non-trivial eigenvalues. The trivial ones (eigenvalue 0, one
 * `D^1/2 1_C` per connected component C) are known in closed form, so they are
 * deflated exactly and Lanczos with full reorthogonalisation runs on
 * `2I - L` in their complement. Undirected graphs only; weights are used.
 * Eigenvectors are defined up to sign: see `sign`.
 */
export function laplacianPE(
  graph: CsrGraph,
  k: number,
  options: LaplacianPEOptions = {},
): LaplacianPE {
  if (graph.directed)
    throw new GraphCoreError('embeddings', 'laplacianPE needs an undirected graph');
  if (!Number.isInteger(k) || k < 1)
    throw new GraphCoreError('embeddings', `k must be a positive integer, got ${k}`);
  const n = graph.numNodes;
  const deg = graph.weightedDegree();
  const isq = new Float64Array(n);
  for (let u = 0; u < n; u++) isq[u] = deg[u]! > 0 ? 1 / Math.sqrt(deg[u]!) : 0;
  const { indptr, indices, weights } = graph;
  // y = (2I - L) x = x + D^-1/2 A D^-1/2 x on non-isolated nodes; isolated nodes have L = 0, so 2x.
  const op = (x: Float64Array, y: Float64Array): void => {
    for (let u = 0; u < n; u++) {
      if (isq[u] === 0) {
        y[u] = 2 * x[u]!;
        continue;
      }
      let s = 0;
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        const v = indices[p]!;
        s += (weights === undefined ? 1 : weights[p]!) * isq[v]! * x[v]!;
      }
      y[u] = x[u]! + isq[u]! * s;
    }
  };
  // Null space of L: one vector D^1/2 1_C per component C (e_u for an isolated
  // node). Supports are disjoint, so projecting them out is O(n), not O(n·#C).
  const comps = connectedComponents(graph);
  const q = new Float64Array(n);
  const sq = new Float64Array(comps.count);
  for (let u = 0; u < n; u++) {
    q[u] = deg[u]! > 0 ? Math.sqrt(deg[u]!) : 1;
    sq[comps.component[u]!]! += q[u]! * q[u]!;
  }
  for (let u = 0; u < n; u++) q[u]! /= Math.sqrt(sq[comps.component[u]!]!);
  const coef = new Float64Array(comps.count);
  const project = (v: Float64Array): void => {
    coef.fill(0);
    for (let u = 0; u < n; u++) coef[comps.component[u]!]! += v[u]! * q[u]!;
    for (let u = 0; u < n; u++) v[u]! -= coef[comps.component[u]!]! * q[u]!;
  };
  const res = lanczosLargestLocked(
    n,
    op,
    k,
    { dimension: comps.count, project },
    {
      seed: options.seed ?? 0,
      tol: options.tol ?? 1e-8,
    },
  );
  const pe = new Float32Array(n * k);
  const eigenvalues = new Float64Array(k).fill(Number.NaN);
  const rng = new Rng((options.seed ?? 0) ^ 0x5bd1e995);
  for (let j = 0; j < res.vectors.length; j++) {
    const v = res.vectors[j]!;
    eigenvalues[j] = 2 - res.values[j]!;
    let sign = canonicalSign(v);
    if (options.sign === 'random' && rng.next() < 0.5) sign = -sign;
    for (let u = 0; u < n; u++) pe[u * k + j] = sign * v[u]!;
  }
  return { pe, eigenvalues, k };
}

/** +1 or -1 so that the largest-magnitude entry (lowest index among near-ties) becomes positive. */
export function canonicalSign(v: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < v.length; i++) max = Math.max(max, Math.abs(v[i]!));
  for (let i = 0; i < v.length; i++) {
    if (Math.abs(v[i]!) >= max * (1 - 1e-6)) return v[i]! >= 0 ? 1 : -1;
  }
  return 1;
}
