/**
 * Plain-JS reference implementations, written as directly from the
 * definitions as possible (COO loops, sorts) and sharing no code with the
 * kernels they check.
 */

/** Reference CSR × dense via the COO triplets. */
export function referenceSpmm(
  indptr: ArrayLike<number>,
  indices: ArrayLike<number>,
  weights: ArrayLike<number> | undefined,
  x: ArrayLike<number>,
  numFeatures: number,
): Float64Array {
  const numRows = indptr.length - 1;
  const out = new Float64Array(numRows * numFeatures);
  for (let r = 0; r < numRows; r++) {
    for (let e = indptr[r]!; e < indptr[r + 1]!; e++) {
      const w = weights === undefined ? 1 : weights[e]!;
      for (let f = 0; f < numFeatures; f++)
        out[r * numFeatures + f]! += w * x[indices[e]! * numFeatures + f]!;
    }
  }
  return out;
}

/** Reference segment reduction; `kind` max gives 0 for empty segments. */
export function referenceSegment(
  kind: 'sum' | 'mean' | 'max',
  data: ArrayLike<number>,
  ids: ArrayLike<number>,
  numSegments: number,
  numFeatures: number,
): Float64Array {
  const groups: number[][][] = Array.from({ length: numSegments }, () => []);
  for (let i = 0; i < ids.length; i++) {
    groups[ids[i]!]!.push(
      Array.from({ length: numFeatures }, (_, f) => data[i * numFeatures + f]!),
    );
  }
  const out = new Float64Array(numSegments * numFeatures);
  groups.forEach((rows, s) => {
    for (let f = 0; f < numFeatures; f++) {
      const col = rows.map((r) => r[f]!);
      let v = 0;
      if (col.length > 0) {
        if (kind === 'max') v = Math.max(...col);
        else v = col.reduce((a, b) => a + b, 0) / (kind === 'mean' ? col.length : 1);
      }
      out[s * numFeatures + f] = v;
    }
  });
  return out;
}

/** Reference softmax within segments, per column. */
export function referenceSegmentSoftmax(
  logits: ArrayLike<number>,
  ids: ArrayLike<number>,
  numSegments: number,
  numFeatures: number,
): Float64Array {
  const out = new Float64Array(logits.length);
  for (let s = 0; s < numSegments; s++) {
    const members: number[] = [];
    for (let i = 0; i < ids.length; i++) if (ids[i] === s) members.push(i);
    for (let f = 0; f < numFeatures; f++) {
      const m = Math.max(...members.map((i) => logits[i * numFeatures + f]!));
      const z = members.reduce((acc, i) => acc + Math.exp(logits[i * numFeatures + f]! - m), 0);
      for (const i of members)
        out[i * numFeatures + f] = Math.exp(logits[i * numFeatures + f]! - m) / z;
    }
  }
  return out;
}

/** Reference top-k by a full stable sort of each row. */
export function referenceTopK(
  x: ArrayLike<number>,
  rows: number,
  n: number,
  k: number,
): { values: Float64Array; indices: Int32Array } {
  const values = new Float64Array(rows * k);
  const indices = new Int32Array(rows * k);
  for (let r = 0; r < rows; r++) {
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
      const va = x[r * n + a]!;
      const vb = x[r * n + b]!;
      return vb - va || a - b;
    });
    for (let j = 0; j < k; j++) {
      indices[r * k + j] = order[j]!;
      values[r * k + j] = x[r * n + order[j]!]!;
    }
  }
  return { values, indices };
}
