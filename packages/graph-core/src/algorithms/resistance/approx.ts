import type { CsrGraph } from '../../csr/csr-graph.js';
import { GraphCoreError } from '../../errors.js';
import { Rng } from '../../random/rng.js';
import { connectedComponents } from '../../traversal/components.js';
import { type LaplacianSolveOptions, solveLaplacian } from './cg.js';
import { checkLaplacianInput, laplacianDiagonal } from './laplacian.js';

/** Options of {@link approximateResistances}. */
export interface ApproximateResistanceOptions extends LaplacianSolveOptions {
  /** Target relative error ε of the Johnson–Lindenstrauss sketch (default 0.3). */
  readonly epsilon?: number;
  /** Number of random projections; default ⌈24 ln(n) / ε²⌉ as in the paper. */
  readonly numProjections?: number;
  /** PRNG seed for the ±1 projections (default 0). */
  readonly seed?: number;
}

/** Effective-resistance sketch: each node gets a vector whose distances square to resistances. */
export interface ResistanceSketch {
  /** Number of projections k (columns of `embedding`). */
  readonly dim: number;
  /** Row-major n × k embedding Z^T; R(u, v) ≈ ‖Z_u - Z_v‖². */
  readonly embedding: Float64Array;
  /** Approximate effective resistance (Infinity across components). */
  resistance(u: number, v: number): number;
  /** Approximate resistance of every stored arc, aligned with `graph.indices`. */
  arcResistances(): Float64Array;
  /** Approximate total effective resistance Σ_{u<v} R(u, v) (Infinity if disconnected). */
  totalEffectiveResistance(): number;
}

/**
 * Approximate effective resistances after Spielman & Srivastava, "Graph
 * Sparsification by Effective Resistances" (STOC 2008): with the weighted
 * incidence matrix W^{1/2} B and a random k × m matrix Q of ±1/√k entries,
 * Z = Q W^{1/2} B L^+ satisfies R(u, v) ≈ ‖Z(e_u - e_v)‖² within a factor
 * 1 ± ε for all pairs w.h.p. when k ≈ 24 ln(n) / ε². Each of the k rows is
 * one Laplacian solve (Jacobi-preconditioned CG here instead of the paper's
 * Spielman–Teng solver), so the cost is O(k · iterations · m).
 */
export function approximateResistances(
  graph: CsrGraph,
  options: ApproximateResistanceOptions = {},
): ResistanceSketch {
  checkLaplacianInput(graph);
  const n = graph.numNodes;
  const eps = options.epsilon ?? 0.3;
  if (!(eps > 0 && eps < 1)) {
    throw new GraphCoreError('algorithms/resistance', `epsilon must be in (0, 1), got ${eps}`);
  }
  const k =
    options.numProjections ?? Math.max(1, Math.ceil((24 * Math.log(Math.max(n, 2))) / eps ** 2));
  if (!Number.isInteger(k) || k < 1) {
    throw new GraphCoreError(
      'algorithms/resistance',
      `numProjections must be a positive integer, got ${k}`,
    );
  }
  const rng = new Rng(options.seed ?? 0);
  const diag = laplacianDiagonal(graph);
  const { indptr, indices, weights } = graph;
  const embedding = new Float64Array(n * k);
  const y = new Float64Array(n);
  const z = new Float64Array(n);
  const scale = 1 / Math.sqrt(k);
  for (let row = 0; row < k; row++) {
    // y = (Q W^{1/2} B)_row: each edge u<v adds ±√w/√k at u and subtracts it at v.
    y.fill(0);
    for (let u = 0; u < n; u++) {
      for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
        const v = indices[p]!;
        if (v <= u) continue;
        const s =
          (rng.nextUint32() & 1 ? scale : -scale) *
          Math.sqrt(weights === undefined ? 1 : weights[p]!);
        y[u]! += s;
        y[v]! -= s;
      }
    }
    solveLaplacian(graph, diag, y, z, options);
    for (let u = 0; u < n; u++) embedding[u * k + row] = z[u]!;
  }
  const { component, count } = connectedComponents(graph);
  const resistance = (u: number, v: number): number => {
    for (const x of [u, v]) {
      if (!Number.isInteger(x) || x < 0 || x >= n) {
        throw new GraphCoreError('algorithms/resistance', `node id ${x} is out of range [0, ${n})`);
      }
    }
    if (component[u] !== component[v]) return Number.POSITIVE_INFINITY;
    let s = 0;
    for (let c = 0; c < k; c++) s += (embedding[u * k + c]! - embedding[v * k + c]!) ** 2;
    return s;
  };
  return {
    dim: k,
    embedding,
    resistance,
    arcResistances: () => {
      const out = new Float64Array(graph.numEdges);
      for (let u = 0; u < n; u++) {
        for (let p = indptr[u]!; p < indptr[u + 1]!; p++) out[p] = resistance(u, indices[p]!);
      }
      return out;
    },
    totalEffectiveResistance: () => {
      if (n <= 1) return 0;
      if (count > 1) return Number.POSITIVE_INFINITY;
      // Σ_{u<v} ‖z_u - z_v‖² = n Σ_u ‖z_u‖² - ‖Σ_u z_u‖², column by column.
      let total = 0;
      for (let c = 0; c < k; c++) {
        let sum = 0;
        let sq = 0;
        for (let u = 0; u < n; u++) {
          const x = embedding[u * k + c]!;
          sum += x;
          sq += x * x;
        }
        total += n * sq - sum * sum;
      }
      return total;
    },
  };
}
