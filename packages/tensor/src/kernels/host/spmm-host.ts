/**
 * Row-wise CSR x dense product on host memory. For each output row and each
 * block of 8 features, eight accumulators stay in registers while the row's
 * entries stream by, so the output is written once and the inner loop does
 * eight loads and eight multiply-adds, with no stores (about 1.7x faster in
 * V8 than accumulating into the output array). Neighbour rows are re-read once
 * per block, but a row's neighbours fit in L1/L2, so that costs little. No
 * `[E, F]` gathered matrix is ever built.
 */
export function spmmHost(
  indptr: Int32Array,
  indices: Int32Array,
  weights: Float32Array | null,
  x: Float32Array,
  numRows: number,
  numFeatures: number,
  out: Float32Array,
): void {
  const F = numFeatures;
  for (let r = 0; r < numRows; r++) {
    const start = indptr[r]!;
    const end = indptr[r + 1]!;
    const o = r * F;
    let f = 0;
    for (; f + 7 < F; f += 8) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let a4 = 0;
      let a5 = 0;
      let a6 = 0;
      let a7 = 0;
      for (let e = start; e < end; e++) {
        const w = weights === null ? 1 : weights[e]!;
        const b = indices[e]! * F + f;
        a0 += w * x[b]!;
        a1 += w * x[b + 1]!;
        a2 += w * x[b + 2]!;
        a3 += w * x[b + 3]!;
        a4 += w * x[b + 4]!;
        a5 += w * x[b + 5]!;
        a6 += w * x[b + 6]!;
        a7 += w * x[b + 7]!;
      }
      out[o + f] = a0;
      out[o + f + 1] = a1;
      out[o + f + 2] = a2;
      out[o + f + 3] = a3;
      out[o + f + 4] = a4;
      out[o + f + 5] = a5;
      out[o + f + 6] = a6;
      out[o + f + 7] = a7;
    }
    for (; f < F; f++) {
      let acc = 0;
      for (let e = start; e < end; e++)
        acc += (weights === null ? 1 : weights[e]!) * x[indices[e]! * F + f]!;
      out[o + f] = acc;
    }
  }
}

/** `out[e] = dot(a[row(e)], b[indices[e]])` for every stored entry. */
export function sddmmHost(
  indptr: Int32Array,
  indices: Int32Array,
  a: Float32Array,
  b: Float32Array,
  numRows: number,
  numFeatures: number,
  out: Float32Array,
): void {
  const F = numFeatures;
  for (let r = 0; r < numRows; r++) {
    const ao = r * F;
    for (let e = indptr[r]!, end = indptr[r + 1]!; e < end; e++) {
      const bo = indices[e]! * F;
      let acc = 0;
      for (let f = 0; f < F; f++) acc += a[ao + f]! * b[bo + f]!;
      out[e] = acc;
    }
  }
}
