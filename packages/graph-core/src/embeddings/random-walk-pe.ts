import type { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';

/**
 * Random-walk structural encodings (Dwivedi et al., "Graph Neural Networks
 * with Learnable Structural and Positional Representations", ICLR 2022):
 * for each node u, the return probabilities `[(P)_uu, (P²)_uu, …, (P^k)_uu]`
 * of the random walk `P = D^-1 A` (weights used). Computed exactly by pushing
 * each node's walk distribution k steps over only the nodes it has reached,
 * so the cost is the size of the k-hop balls, not n² per step.
 * Returns a row-major `numNodes × k` Float32Array.
 */
export function randomWalkPE(graph: CsrGraph, k: number): Float32Array {
  if (!Number.isInteger(k) || k < 1)
    throw new GraphCoreError('embeddings', `k must be a positive integer, got ${k}`);
  const n = graph.numNodes;
  const { indptr, indices, weights } = graph;
  const deg = graph.weightedDegree();
  const invDeg = Float64Array.from(deg, (d) => (d > 0 ? 1 / d : 0));
  const out = new Float32Array(n * k);
  let cur = new Float64Array(n);
  let nxt = new Float64Array(n);
  let active = new Int32Array(n);
  let nextActive = new Int32Array(n);
  const mark = new Int32Array(n).fill(-1);
  for (let s = 0; s < n; s++) {
    cur[s] = 1;
    active[0] = s;
    let numActive = 1;
    for (let step = 0; step < k; step++) {
      let numNext = 0;
      const stamp = s * k + step;
      for (let a = 0; a < numActive; a++) {
        const u = active[a]!;
        const mass = cur[u]! * invDeg[u]!;
        cur[u] = 0;
        if (mass === 0) continue;
        for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
          const v = indices[p]!;
          if (mark[v] !== stamp) {
            mark[v] = stamp;
            nextActive[numNext++] = v;
          }
          nxt[v]! += mass * (weights === undefined ? 1 : weights[p]!);
        }
      }
      out[s * k + step] = nxt[s]!;
      [cur, nxt] = [nxt, cur];
      [active, nextActive] = [nextActive, active];
      numActive = numNext;
    }
    for (let a = 0; a < numActive; a++) cur[active[a]!] = 0;
  }
  return out;
}
