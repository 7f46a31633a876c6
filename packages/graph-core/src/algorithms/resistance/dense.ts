import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { connectedComponents } from '../../traversal/components.js';
import { checkLaplacianInput, denseLaplacian } from './laplacian.js';

/**
 * Moore–Penrose pseudo-inverse L^+ of the graph Laplacian, dense n × n
 * row-major, O(n^3): per connected component C (size c), L_C + J/c is
 * positive definite and L_C^+ = (L_C + J/c)^{-1} - J/c (J = all-ones);
 * entries between different components are 0. Meant for graphs up to a few
 * thousand nodes; use {@link approximateResistances} beyond that.
 */
export function laplacianPseudoinverse(graph: CsrGraph): Float64Array {
  checkLaplacianInput(graph);
  const n = graph.numNodes;
  const out = new Float64Array(n * n);
  const { count, component } = connectedComponents(graph);
  const members: number[][] = Array.from({ length: count }, () => []);
  for (let u = 0; u < n; u++) members[component[u]!]!.push(u);
  for (const list of members) {
    const nodes = Int32Array.from(list);
    const c = nodes.length;
    const M = denseLaplacian(graph, nodes);
    for (let i = 0; i < c * c; i++) M[i]! += 1 / c;
    const inv = invertSpd(M, c);
    for (let i = 0; i < c; i++) {
      for (let j = 0; j < c; j++) out[nodes[i]! * n + nodes[j]!] = inv[i * c + j]! - 1 / c;
    }
  }
  return out;
}

/** Inverse of a symmetric positive definite matrix by Cholesky (A = R^T R). */
function invertSpd(A: Float64Array, n: number): Float64Array {
  // Cholesky: lower triangle L with A = L L^T, stored in place.
  const L = A.slice();
  for (let j = 0; j < n; j++) {
    let d = L[j * n + j]!;
    for (let k = 0; k < j; k++) d -= L[j * n + k]! ** 2;
    if (!(d > 0)) {
      throw new GraphCoreError('algorithms/resistance', 'Laplacian block is not positive definite');
    }
    const ljj = Math.sqrt(d);
    L[j * n + j] = ljj;
    for (let i = j + 1; i < n; i++) {
      let s = L[i * n + j]!;
      for (let k = 0; k < j; k++) s -= L[i * n + k]! * L[j * n + k]!;
      L[i * n + j] = s / ljj;
    }
  }
  // Solve L L^T X = I one column at a time.
  const inv = new Float64Array(n * n);
  const y = new Float64Array(n);
  for (let col = 0; col < n; col++) {
    for (let i = 0; i < n; i++) {
      let s = i === col ? 1 : 0;
      for (let k = 0; k < i; k++) s -= L[i * n + k]! * y[k]!;
      y[i] = s / L[i * n + i]!;
    }
    for (let i = n - 1; i >= 0; i--) {
      let s = y[i]!;
      for (let k = i + 1; k < n; k++) s -= L[k * n + i]! * inv[k * n + col]!;
      inv[i * n + col] = s / L[i * n + i]!;
    }
  }
  return inv;
}
