import type { CsrGraph } from '@plexus/graph-core';
import { CsrMatrix } from '@plexus/tensor';
import { checkPairs, type LinkPairs } from './pairs.js';

/** Sorted, duplicate-free neighbours of `u`. */
function sortedNeighbours(graph: CsrGraph, u: number): Int32Array {
  const nb = graph.neighbours(u);
  for (let k = 1; k < nb.length; k++) {
    if (nb[k]! <= nb[k - 1]!) return Int32Array.from(new Set(Array.from(nb).sort((a, b) => a - b)));
  }
  return nb;
}

function toCsr(rows: number[][], numCols: number): CsrMatrix {
  const indptr = new Int32Array(rows.length + 1);
  for (let r = 0; r < rows.length; r++) indptr[r + 1] = indptr[r]! + rows[r]!.length;
  const indices = new Int32Array(indptr[rows.length]!);
  rows.forEach((row, r) => {
    indices.set(row, indptr[r]!);
  });
  return CsrMatrix.fromArrays({
    indptr,
    indices,
    values: new Float32Array(indices.length).fill(1),
    numCols,
  });
}

/**
 * The common-neighbour matrix of "Neural Common Neighbor with Completion for
 * Link Prediction" (Wang, Yang, Zhang, ICLR 2024): a `[P, N]` CSR matrix with
 * a one at `(p, k)` for every `k ∈ N(src[p]) ∩ N(dst[p])` in `graph`, built on
 * the host by merging sorted neighbour lists, so that
 * `spmm(matrix, h)` is NCN's `Σ_{k ∈ N(i) ∩ N(j)} h_k`, differentiable in `h`.
 * The caller disposes the matrix.
 */
export function commonNeighbourMatrix(graph: CsrGraph, pairs: LinkPairs): CsrMatrix {
  checkPairs('common-neighbours', pairs, graph.numNodes);
  const rows: number[][] = [];
  for (let p = 0; p < pairs.src.length; p++) {
    const a = sortedNeighbours(graph, pairs.src[p]!);
    const b = sortedNeighbours(graph, pairs.dst[p]!);
    const row: number[] = [];
    let x = 0;
    let y = 0;
    while (x < a.length && y < b.length) {
      if (a[x]! < b[y]!) x++;
      else if (a[x]! > b[y]!) y++;
      else {
        row.push(a[x]!);
        x++;
        y++;
      }
    }
    rows.push(row);
  }
  return toCsr(rows, graph.numNodes);
}

/** One side of NCNC's completion: candidate neighbours as a matrix and the pairs to score for them. */
export interface CompletionSide {
  /** `[P, N]`, a one at `(p, k)` for each candidate `k` of pair `p`, row-major. */
  readonly matrix: CsrMatrix;
  /** For each stored entry of `matrix`, in order, the pair whose edge probability weighs it. */
  readonly queries: LinkPairs;
}

/** Both sides of NCNC's completion; see {@link completionMatrices}. */
export interface Completion {
  /** `k ∈ N(j) \ N(i)`, `k ≠ i`, weighted by the probability of edge `(i, k)`. */
  readonly fromDst: CompletionSide;
  /** `k ∈ N(i) \ N(j)`, `k ≠ j`, weighted by the probability of edge `(k, j)`. */
  readonly fromSrc: CompletionSide;
}

function difference(a: Int32Array, b: Int32Array, i: number, j: number): number[] {
  const out: number[] = [];
  let y = 0;
  for (const k of a) {
    while (y < b.length && b[y]! < k) y++;
    if ((y < b.length && b[y] === k) || k === i || k === j) continue;
    out.push(k);
  }
  return out;
}

/**
 * The candidates of common-neighbour completion (NCNC, "Neural Common
 * Neighbor with Completion for Link Prediction", Wang, Yang, Zhang, ICLR
 * 2024): for each target pair `(i, j)`, the nodes `k ∈ N(j) \ N(i)` (which
 * are common neighbours if the unobserved edge `(i, k)` exists) with queries
 * `(i, k)`, and `k ∈ N(i) \ N(j)` with queries `(k, j)`. The targets
 * themselves are skipped (`k ≠ i`, `k ≠ j`). The caller disposes the matrices.
 */
export function completionMatrices(graph: CsrGraph, pairs: LinkPairs): Completion {
  checkPairs('common-neighbours', pairs, graph.numNodes);
  const side = (fromDst: boolean): CompletionSide => {
    const rows: number[][] = [];
    const qs: number[] = [];
    const qd: number[] = [];
    for (let p = 0; p < pairs.src.length; p++) {
      const i = pairs.src[p]!;
      const j = pairs.dst[p]!;
      const ni = sortedNeighbours(graph, i);
      const nj = sortedNeighbours(graph, j);
      const row = fromDst ? difference(nj, ni, i, j) : difference(ni, nj, i, j);
      for (const k of row) {
        qs.push(fromDst ? i : k);
        qd.push(fromDst ? k : j);
      }
      rows.push(row);
    }
    return {
      matrix: toCsr(rows, graph.numNodes),
      queries: { src: Int32Array.from(qs), dst: Int32Array.from(qd) },
    };
  };
  return { fromDst: side(true), fromSrc: side(false) };
}
