import type { CsrGraph } from '../../csr/csr-graph.js';
import { lanczosLargest } from '../../embeddings/lanczos.js';
import { Rng } from '../../random/rng.js';
import { kMeans } from './kmeans.js';

/**
 * Leading `k` eigenvectors of the normalised adjacency D^-1/2 A D^-1/2 by
 * Lanczos (largest eigenvalues first), each of length n.
 */
export function normalizedAdjacencyEigenvectors(
  graph: CsrGraph,
  k: number,
  seed = 0,
): Float64Array[] {
  const n = graph.numNodes;
  const deg = graph.weightedDegree();
  const isq = Float64Array.from(deg, (d) => (d > 0 ? 1 / Math.sqrt(d) : 0));
  const { indptr, indices, weights } = graph;
  const op = (x: Float64Array, y: Float64Array): void => {
    for (let u = 0; u < n; u++) {
      let s = 0;
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        const v = indices[p]!;
        s += (weights === undefined ? 1 : weights[p]!) * isq[v]! * x[v]!;
      }
      y[u] = isq[u]! * s;
    }
  };
  return lanczosLargest(n, op, Math.min(k, n), { dimension: 0, project: () => {} }, { seed })
    .vectors;
}

/**
 * Spectral embedding: the leading `k` eigenvectors of D^-1/2 A D^-1/2 as a
 * row-major `n × k` matrix with unit-length rows (Ng, Jordan & Weiss, "On
 * Spectral Clustering", NIPS 2001). Isolated nodes get zero rows.
 */
export function spectralEmbedding(graph: CsrGraph, k: number, seed = 0): Float64Array {
  const n = graph.numNodes;
  const dim = Math.min(k, n);
  const out = new Float64Array(n * dim);
  normalizedAdjacencyEigenvectors(graph, dim, seed).forEach((vec, c) => {
    for (let u = 0; u < n; u++) out[u * dim + c] = vec[u]!;
  });
  for (let u = 0; u < n; u++) {
    let s = 0;
    for (let c = 0; c < dim; c++) s += out[u * dim + c]! ** 2;
    if (s > 0) for (let c = 0; c < dim; c++) out[u * dim + c]! /= Math.sqrt(s);
  }
  return out;
}

/** Spectral clustering into `k` groups: {@link spectralEmbedding} then k-means++ (seeded). */
export function spectralClustering(graph: CsrGraph, k: number, seed = 0): Int32Array {
  const n = graph.numNodes;
  if (n === 0) return new Int32Array(0);
  const dim = Math.min(k, n);
  const emb = spectralEmbedding(graph, dim, seed);
  return kMeans(emb, n, dim, k, new Rng(seed + 1));
}
