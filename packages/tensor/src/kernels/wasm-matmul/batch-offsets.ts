/**
 * For each matrix of a broadcast batch of shape `outBatch`, the index of the
 * matrix of an input whose batch shape is `inBatch` (numpy broadcasting:
 * shapes aligned on the right, size-1 dims repeated). `inBatch` must
 * broadcast to `outBatch`.
 */
export function batchIndices(outBatch: readonly number[], inBatch: readonly number[]): Int32Array {
  const total = outBatch.reduce((p, d) => p * d, 1);
  const out = new Int32Array(total);
  const rank = outBatch.length;
  const shift = rank - inBatch.length;
  // Stride of each output dim in the input's matrix index (0 where broadcast).
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = inBatch.length - 1; d >= 0; d--) {
    const size = inBatch[d]!;
    strides[d + shift] = size === 1 ? 0 : s;
    s *= size;
  }
  const idx = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < total; i++) {
    out[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      off += strides[d]!;
      if (idx[d]! < outBatch[d]!) break;
      off -= strides[d]! * idx[d]!;
      idx[d] = 0;
    }
  }
  return out;
}
