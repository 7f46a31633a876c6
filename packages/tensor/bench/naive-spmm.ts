/** The loop a user would write first: CSR rows, then entries, then features, no tricks. */
export function naiveSpmm(
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array,
  x: Float32Array,
  F: number,
): Float32Array {
  const n = indptr.length - 1;
  const out = new Float32Array(n * F);
  for (let r = 0; r < n; r++) {
    for (let e = indptr[r]!; e < indptr[r + 1]!; e++) {
      const c = indices[e]!;
      for (let f = 0; f < F; f++) out[r * F + f] = out[r * F + f]! + weights[e]! * x[c * F + f]!;
    }
  }
  return out;
}
