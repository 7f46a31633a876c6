/** Mean over rows of the Euclidean distance between `a` and `b` (row-major, `dim` columns). */
export function meanL2(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  dim: number,
  rows?: number,
): number {
  const n = rows ?? a.length / dim;
  let total = 0;
  for (let i = 0; i < n; i++) {
    let acc = 0;
    for (let d = 0; d < dim; d++) {
      const diff = a[i * dim + d]! - b[i * dim + d]!;
      acc += diff * diff;
    }
    total += Math.sqrt(acc);
  }
  return total / n;
}

/**
 * Sliced 2-Wasserstein distance between two equal-size 2-D point sets: the
 * root mean over `angles` directions `pi p / angles` of the squared W2 of the
 * sorted projections (the anchor's SW2).
 */
export function slicedW2(a: ArrayLike<number>, b: ArrayLike<number>, angles = 128): number {
  const n = a.length / 2;
  if (b.length !== a.length) throw new RangeError('slicedW2 needs equal-size sets');
  const pa = new Float64Array(n);
  const pb = new Float64Array(n);
  let total = 0;
  for (let p = 0; p < angles; p++) {
    const c = Math.cos((Math.PI * p) / angles);
    const s = Math.sin((Math.PI * p) / angles);
    for (let i = 0; i < n; i++) {
      pa[i] = c * a[2 * i]! + s * a[2 * i + 1]!;
      pb[i] = c * b[2 * i]! + s * b[2 * i + 1]!;
    }
    pa.sort();
    pb.sort();
    let acc = 0;
    for (let i = 0; i < n; i++) acc += (pa[i]! - pb[i]!) ** 2;
    total += acc / n;
  }
  return Math.sqrt(total / angles);
}

/** Least-squares slope of `log(err)` against `log(nfe)` (an order of convergence is its negation). */
export function logLogSlope(nfe: readonly number[], err: readonly number[]): number {
  const xs = nfe.map(Math.log);
  const ys = err.map(Math.log);
  const mx = xs.reduce((a, b) => a + b, 0) / xs.length;
  const my = ys.reduce((a, b) => a + b, 0) / ys.length;
  let num = 0;
  let den = 0;
  for (let i = 0; i < xs.length; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return num / den;
}
