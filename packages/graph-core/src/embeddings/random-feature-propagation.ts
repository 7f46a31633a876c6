import type { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';
import { Rng } from '../random/rng.js';
import { normalizeColumns, orthonormalizeColumns, spmmDense } from './dense-ops.js';

/** Options of {@link randomFeaturePropagation}. */
export interface RandomFeaturePropagationOptions {
  /** Random channels r (default 16). */
  readonly channels?: number;
  /** Propagation steps t (default 8); the output holds t + 1 blocks. */
  readonly steps?: number;
  /** Propagation operator: GCN `D^-1/2 (A+I) D^-1/2` (default) or random walk `D^-1 A`. */
  readonly operator?: 'gcn' | 'random-walk';
  /** Per-step normalisation: unit-norm columns (default) or orthonormal columns (power-iteration style). */
  readonly normalization?: 'columns' | 'orthonormal';
  /** PRNG seed (default 0). */
  readonly seed?: number;
}

/**
 * Random Feature Propagation positional encodings (Eliasof et al., "Graph
 * Positional Encoding via Random Feature Propagation", ICML 2023): start from
 * Gaussian random features `R` (n × r), propagate `R_{i+1} = norm(P R_i)` and
 * concatenate the trajectory `[R_0, R_1, …, R_t]` — the iterates of a power
 * method, which tend towards the dominant eigenvectors that LapPE computes,
 * without an eigensolver. Returns a row-major `numNodes × r(t+1)` Float32Array.
 */
export function randomFeaturePropagation(
  graph: CsrGraph,
  options: RandomFeaturePropagationOptions = {},
): Float32Array {
  const r = options.channels ?? 16;
  const t = options.steps ?? 8;
  if (!Number.isInteger(r) || r < 1)
    throw new GraphCoreError('embeddings', `channels must be a positive integer, got ${r}`);
  if (!Number.isInteger(t) || t < 0)
    throw new GraphCoreError('embeddings', `steps must be a non-negative integer, got ${t}`);
  const n = graph.numNodes;
  const op = options.operator === 'random-walk' ? graph.rowNormalize() : graph.gcnNormalize();
  const orth = options.normalization === 'orthonormal';
  const rng = new Rng(options.seed ?? 0);
  let cur = new Float32Array(n * r);
  for (let i = 0; i < cur.length; i++) cur[i] = rng.nextGaussian();
  const width = r * (t + 1);
  const out = new Float32Array(n * width);
  let nxt = new Float32Array(n * r);
  for (let step = 0; step <= t; step++) {
    if (step > 0) {
      spmmDense(op.indptr, op.indices, op.weights, cur, r, nxt);
      [cur, nxt] = [nxt, cur];
    }
    if (orth) orthonormalizeColumns(cur, r);
    else normalizeColumns(cur, r);
    for (let u = 0; u < n; u++) out.set(cur.subarray(u * r, (u + 1) * r), u * width + step * r);
  }
  return out;
}
