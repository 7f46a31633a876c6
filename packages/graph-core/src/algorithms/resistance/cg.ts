import type { CsrGraph } from '../../csr/csr-graph.js';
import { laplacianMatvec } from './laplacian.js';

/** Options of {@link solveLaplacian}. */
export interface LaplacianSolveOptions {
  /** Stop when ‖r‖ ≤ tolerance · ‖b‖ (default 1e-8). */
  readonly tolerance?: number;
  /** Iteration cap (default 10 n, at least 100). */
  readonly maxIterations?: number;
}

/**
 * Solve L x = b for a graph Laplacian by Jacobi-preconditioned conjugate
 * gradient. `b` must sum to zero on every connected component (then the
 * singular system is consistent and CG, started at 0, converges); x is
 * determined up to a constant per component, which resistances ignore.
 * Returns the number of iterations used.
 */
export function solveLaplacian(
  graph: CsrGraph,
  diag: Float64Array,
  b: Float64Array,
  x: Float64Array,
  options: LaplacianSolveOptions = {},
): number {
  const n = graph.numNodes;
  const tol = options.tolerance ?? 1e-8;
  const maxIt = options.maxIterations ?? Math.max(100, 10 * n);
  x.fill(0);
  const r = b.slice();
  const z = new Float64Array(n);
  const p = new Float64Array(n);
  const q = new Float64Array(n);
  // Isolated nodes have a zero diagonal; b is 0 there, so any scale works.
  const precond = (): void => {
    for (let i = 0; i < n; i++) z[i] = diag[i]! > 0 ? r[i]! / diag[i]! : r[i]!;
  };
  const bNorm = Math.sqrt(dot(b, b));
  if (bNorm === 0) return 0;
  precond();
  p.set(z);
  let rz = dot(r, z);
  for (let it = 1; it <= maxIt; it++) {
    laplacianMatvec(graph, diag, p, q);
    const pq = dot(p, q);
    if (!(pq > 0)) return it;
    const alpha = rz / pq;
    for (let i = 0; i < n; i++) {
      x[i]! += alpha * p[i]!;
      r[i]! -= alpha * q[i]!;
    }
    if (Math.sqrt(dot(r, r)) <= tol * bNorm) return it;
    precond();
    const rzNew = dot(r, z);
    const beta = rzNew / rz;
    rz = rzNew;
    for (let i = 0; i < n; i++) p[i] = z[i]! + beta * p[i]!;
  }
  return maxIt;
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}
