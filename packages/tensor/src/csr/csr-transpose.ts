/** Result of {@link buildCsrTranspose}. */
export interface CsrTransposeArrays {
  indptr: Int32Array;
  indices: Int32Array;
  values: Float32Array | undefined;
  perm: Int32Array;
}

/**
 * Counting-sort transpose in O(nnz + numCols). Entries of each transposed row
 * keep the original row order, so the result is deterministic.
 */
export function buildCsrTranspose(
  indptr: Int32Array,
  indices: Int32Array,
  values: Float32Array | undefined,
  numRows: number,
  numCols: number,
): CsrTransposeArrays {
  const nnz = indices.length;
  const tIndptr = new Int32Array(numCols + 1);
  for (let e = 0; e < nnz; e++) tIndptr[indices[e]! + 1]!++;
  for (let c = 0; c < numCols; c++) tIndptr[c + 1]! += tIndptr[c]!;
  const next = tIndptr.slice(0, numCols);
  const tIndices = new Int32Array(nnz);
  const perm = new Int32Array(nnz);
  const tValues = values === undefined ? undefined : new Float32Array(nnz);
  for (let r = 0; r < numRows; r++) {
    for (let e = indptr[r]!; e < indptr[r + 1]!; e++) {
      const slot = next[indices[e]!]!++;
      tIndices[slot] = r;
      perm[slot] = e;
      if (tValues !== undefined) tValues[slot] = values![e]!;
    }
  }
  return { indptr: tIndptr, indices: tIndices, values: tValues, perm };
}
