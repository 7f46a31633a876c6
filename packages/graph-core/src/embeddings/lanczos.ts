import { Rng } from '../random/rng.js';
import { tridiagonalEigen } from './tridiagonal.js';

/** Symmetric linear operator `y = M x` on float64 vectors of length n. */
export type SymmetricOperator = (x: Float64Array, y: Float64Array) => void;

/** Result of {@link lanczosLargest}. */
export interface LanczosResult {
  /** The k largest Ritz values, descending. */
  readonly values: Float64Array;
  /** Matching Ritz vectors, each of length n, orthonormal. */
  readonly vectors: Float64Array[];
  /** Lanczos steps taken. */
  readonly steps: number;
}

/** A known invariant subspace to work around: its dimension and an orthogonal projector onto its complement. */
export interface Deflation {
  /** Dimension of the subspace. */
  readonly dimension: number;
  /** Remove the subspace's component from `v` in place. */
  readonly project: (v: Float64Array) => void;
}

/**
 * k largest eigenpairs of a symmetric operator restricted to the orthogonal
 * complement of a known subspace (`deflate`), by Lanczos with full
 * reorthogonalisation (Golub & Van Loan, Matrix Computations, §10.1): every
 * new basis vector is orthogonalised twice against `deflate` and the whole
 * Krylov basis, which keeps Ritz vectors accurate without spurious copies.
 * On breakdown (an invariant subspace) the basis continues with a fresh random
 * vector, so the full complement is reachable. Steps grow until the residual
 * bound `|β_j s_j|` of each wanted pair is below `tol` or the basis spans the
 * complement.
 */
export function lanczosLargest(
  n: number,
  op: SymmetricOperator,
  k: number,
  deflate: Deflation,
  options: { seed?: number; tol?: number; maxSteps?: number } = {},
): LanczosResult {
  const rng = new Rng(options.seed ?? 0);
  const tol = options.tol ?? 1e-8;
  const dimMax = Math.min(options.maxSteps ?? n, n - deflate.dimension);
  if (k <= 0 || dimMax <= 0) return { values: new Float64Array(0), vectors: [], steps: 0 };
  const basis: Float64Array[] = [];
  const alpha: number[] = [];
  const beta: number[] = [];
  const w = new Float64Array(n);
  // Gram–Schmidt against the deflated subspace and the basis, repeated only
  // when the first pass cancelled most of the vector ("twice is enough",
  // Daniel–Gragg–Kaufman–Stewart 1976), which halves the usual cost.
  const orthogonalise = (v: Float64Array): void => {
    const before = norm(v);
    deflate.project(v);
    for (const q of basis) axpyDot(v, q);
    if (norm(v) < 0.7 * before) {
      deflate.project(v);
      for (const q of basis) axpyDot(v, q);
    }
  };
  const fresh = (): Float64Array | undefined => {
    for (let tries = 0; tries < 5; tries++) {
      const v = new Float64Array(n);
      for (let i = 0; i < n; i++) v[i] = rng.nextGaussian();
      orthogonalise(v);
      const nv = norm(v);
      if (nv > 1e-8) {
        for (let i = 0; i < n; i++) v[i]! /= nv;
        return v;
      }
    }
    return undefined;
  };
  let q = fresh();
  let target = Math.min(dimMax, Math.max(2 * k + 20, 40));
  for (;;) {
    while (q !== undefined && basis.length < target) {
      basis.push(q);
      op(q, w);
      const a = dot(w, q);
      alpha.push(a);
      const v = Float64Array.from(w);
      orthogonalise(v);
      const b = norm(v);
      if (basis.length === dimMax) break;
      if (b < 1e-10) {
        beta.push(0);
        q = fresh();
      } else {
        beta.push(b);
        for (let i = 0; i < n; i++) v[i]! /= b;
        q = v;
      }
    }
    const m = basis.length;
    const { values, vectors } = tridiagonalEigen(alpha, beta.slice(0, m - 1));
    const want = Math.min(k, m);
    const lastBeta = m < dimMax && q !== undefined ? (beta[m - 1] ?? 0) : 0;
    let converged = true;
    for (let j = 0; j < want; j++) {
      const col = m - 1 - j;
      if (Math.abs(lastBeta * vectors[(m - 1) * m + col]!) > tol) converged = false;
    }
    if (converged || m >= dimMax || q === undefined) {
      const outValues = new Float64Array(want);
      const outVectors: Float64Array[] = [];
      for (let j = 0; j < want; j++) {
        const col = m - 1 - j;
        outValues[j] = values[col]!;
        const y = new Float64Array(n);
        for (let i = 0; i < m; i++) {
          const c = vectors[i * m + col]!;
          const bi = basis[i]!;
          for (let r = 0; r < n; r++) y[r]! += c * bi[r]!;
        }
        outVectors.push(y);
      }
      return { values: outValues, vectors: outVectors, steps: m };
    }
    target = Math.min(dimMax, target + Math.max(20, target >> 2));
  }
}

function dot(a: Float64Array, b: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

function norm(a: Float64Array): number {
  return Math.sqrt(dot(a, a));
}

/** v -= (v·q) q */
function axpyDot(v: Float64Array, q: Float64Array): void {
  const c = dot(v, q);
  if (c === 0) return;
  for (let i = 0; i < v.length; i++) v[i]! -= c * q[i]!;
}

/**
 * {@link lanczosLargest} made safe for repeated eigenvalues. A single Krylov
 * space holds only one vector per distinct eigenvalue (in exact arithmetic),
 * so a multiplicity-4 eigenvalue of a symmetric mesh would be returned fewer
 * times. Converged pairs are therefore locked (deflated) and Lanczos is rerun
 * from a fresh random vector for the top ⌈k/4⌉ pairs of what is left; any Ritz
 * value strictly above the smallest kept one is a missed copy and is merged
 * in. Stops when a rerun finds nothing new.
 */
export function lanczosLargestLocked(
  n: number,
  op: SymmetricOperator,
  k: number,
  deflate: Deflation,
  options: { seed?: number; tol?: number; maxRounds?: number } = {},
): LanczosResult {
  const tol = options.tol ?? 1e-8;
  const maxRounds = options.maxRounds ?? 8;
  let values: number[] = [];
  let vectors: Float64Array[] = [];
  let steps = 0;
  for (let round = 0; round < maxRounds; round++) {
    const locked = vectors;
    const project = (v: Float64Array): void => {
      deflate.project(v);
      for (const q of locked) axpyDot(v, q);
    };
    // Reruns only need the top few pairs of the deflated operator to spot missed copies; fewer wanted pairs converge sooner.
    const want = round === 0 ? k : Math.max(1, Math.ceil(k / 4));
    const res = lanczosLargest(
      n,
      op,
      want,
      { dimension: deflate.dimension + locked.length, project },
      {
        seed: (options.seed ?? 0) + 7919 * round,
        tol,
      },
    );
    steps += res.steps;
    const floor = values.length < k ? Number.NEGATIVE_INFINITY : values[values.length - 1]!;
    const fresh: number[] = [];
    for (let j = 0; j < res.values.length; j++)
      if (res.values[j]! > floor + 1e3 * tol) fresh.push(j);
    if (fresh.length === 0) break;
    const merged = values.map((v, i) => ({ v, x: vectors[i]! }));
    for (const j of fresh) merged.push({ v: res.values[j]!, x: res.vectors[j]! });
    merged.sort((a, b) => b.v - a.v);
    values = merged.slice(0, k).map((m) => m.v);
    vectors = merged.slice(0, k).map((m) => m.x);
  }
  return { values: Float64Array.from(values), vectors, steps };
}
