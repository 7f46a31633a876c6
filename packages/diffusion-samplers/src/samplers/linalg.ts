/** Solves the small dense system `A x = b` by Gaussian elimination with partial pivoting. */
export function solveSmall(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row.slice(0, n), b[i]!]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r]![c]!) > Math.abs(m[p]![c]!)) p = r;
    [m[c], m[p]] = [m[p]!, m[c]!];
    const piv = m[c]![c]!;
    for (let r = c + 1; r < n; r++) {
      const f = m[r]![c]! / piv;
      for (let k = c; k <= n; k++) m[r]![k]! -= f * m[c]![k]!;
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let acc = m[r]![n]!;
    for (let k = r + 1; k < n; k++) acc -= m[r]![k]! * x[k]!;
    x[r] = acc / m[r]![r]!;
  }
  return x;
}

/**
 * Integral over `[from, to]` of the Lagrange basis polynomial that is 1 at
 * `nodes[j]` and 0 at the other nodes (exact, by expanding the product).
 */
export function lagrangeIntegral(
  nodes: readonly number[],
  j: number,
  from: number,
  to: number,
): number {
  let poly = [1]; // coefficients, lowest degree first
  let denom = 1;
  for (let k = 0; k < nodes.length; k++) {
    if (k === j) continue;
    const nk = nodes[k]!;
    const next = new Array<number>(poly.length + 1).fill(0);
    for (let p = 0; p < poly.length; p++) {
      next[p]! -= nk * poly[p]!;
      next[p + 1]! += poly[p]!;
    }
    poly = next;
    denom *= nodes[j]! - nk;
  }
  let total = 0;
  for (let p = 0; p < poly.length; p++)
    total += (poly[p]! * (to ** (p + 1) - from ** (p + 1))) / (p + 1);
  return total / denom;
}
