/**
 * Top-k of each row of `x` ([rows, n]) by partial insertion: O(n * k) per
 * row, which beats a sort for the small k of routers (k <= 8 of n <= 256).
 * Ties keep the lower index first, NaN ranks above every number.
 */
export function topKHost(
  x: Float32Array,
  rows: number,
  n: number,
  k: number,
  outValues: Float32Array,
  outIndices: Int32Array,
): void {
  for (let r = 0; r < rows; r++) {
    const base = r * n;
    const ob = r * k;
    let filled = 0;
    for (let i = 0; i < n; i++) {
      const v = x[base + i]!;
      if (filled === k && !greater(v, outValues[ob + k - 1]!)) continue;
      let pos = filled < k ? filled++ : k - 1;
      while (pos > 0 && greater(v, outValues[ob + pos - 1]!)) {
        outValues[ob + pos] = outValues[ob + pos - 1]!;
        outIndices[ob + pos] = outIndices[ob + pos - 1]!;
        pos--;
      }
      outValues[ob + pos] = v;
      outIndices[ob + pos] = i;
    }
  }
}

/** Strictly greater, with NaN above everything (as tf.topk orders it). */
function greater(a: number, b: number): boolean {
  if (Number.isNaN(a)) return !Number.isNaN(b);
  return a > b;
}
