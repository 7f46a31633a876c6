import { spmmHost } from '@plexus/tensor';

/**
 * `out = A · X` for CSR `A` (weights optional = ones) and row-major dense `X`
 * (`numCols × dim`), with `@plexus/tensor`'s host kernel (register-blocked
 * accumulators; no `[E, dim]` intermediate).
 */
export function spmmDense(
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array | undefined,
  x: Float32Array,
  dim: number,
  out: Float32Array,
): void {
  spmmHost(indptr, indices, weights ?? null, x, indptr.length - 1, dim, out);
}

/** Multiply row u of `x` (`n × dim`) by `scale[u]` in place. */
export function scaleRows(x: Float32Array, dim: number, scale: ArrayLike<number>): void {
  for (let u = 0, o = 0; o < x.length; u++, o += dim) {
    const s = scale[u]!;
    for (let j = 0; j < dim; j++) x[o + j]! *= s;
  }
}

/** Scale each row of `x` (`n × dim`) to unit L2 norm in place; zero rows stay zero. */
export function normalizeRows(x: Float32Array, dim: number): void {
  for (let o = 0; o < x.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += x[o + j]! * x[o + j]!;
    if (s === 0) continue;
    const inv = 1 / Math.sqrt(s);
    for (let j = 0; j < dim; j++) x[o + j]! *= inv;
  }
}

/** Scale each column of `x` (`n × dim`) to unit L2 norm in place; zero columns stay zero. */
export function normalizeColumns(x: Float32Array, dim: number): void {
  const norms = new Float64Array(dim);
  for (let o = 0; o < x.length; o += dim)
    for (let j = 0; j < dim; j++) norms[j]! += x[o + j]! * x[o + j]!;
  for (let j = 0; j < dim; j++) norms[j] = norms[j]! > 0 ? 1 / Math.sqrt(norms[j]!) : 0;
  for (let o = 0; o < x.length; o += dim) for (let j = 0; j < dim; j++) x[o + j]! *= norms[j]!;
}

/** Orthonormalise the columns of `x` (`n × dim`) in place by modified Gram–Schmidt (float64 dot products). */
export function orthonormalizeColumns(x: Float32Array, dim: number): void {
  const n = dim === 0 ? 0 : x.length / dim;
  for (let j = 0; j < dim; j++) {
    for (let i = 0; i < j; i++) {
      let dot = 0;
      for (let r = 0; r < n; r++) dot += x[r * dim + i]! * x[r * dim + j]!;
      for (let r = 0; r < n; r++) x[r * dim + j]! -= dot * x[r * dim + i]!;
    }
    let s = 0;
    for (let r = 0; r < n; r++) s += x[r * dim + j]! * x[r * dim + j]!;
    const inv = s > 1e-20 ? 1 / Math.sqrt(s) : 0;
    for (let r = 0; r < n; r++) x[r * dim + j]! *= inv;
  }
}
