import { GraphCoreError } from '../errors.js';

/** Dense node features: row-major `numNodes × dim` matrix. */
export interface DenseFeatures {
  /** Row `u` is `data[u*dim .. (u+1)*dim)`. */
  readonly data: Float32Array;
  /** Number of features per node. */
  readonly dim: number;
}

/** Sparse node features: a CSR `numNodes × dim` matrix (e.g. bag-of-words). */
export interface SparseFeatures {
  /** Row pointer, length `numNodes + 1`. */
  readonly indptr: Int32Array;
  /** Feature (column) ids, strictly increasing within a row. */
  readonly indices: Int32Array;
  /** Value of each stored feature. */
  readonly values: Float32Array;
  /** Number of feature columns. */
  readonly dim: number;
}

/** Node features held beside a graph, dense or sparse. */
export type NodeFeatures = DenseFeatures | SparseFeatures;

/** True when `f` is the sparse (CSR) kind of {@link NodeFeatures}. */
export function isSparseFeatures(f: NodeFeatures): f is SparseFeatures {
  return 'indptr' in f;
}

/** Number of rows (nodes) `f` describes. */
export function featureRows(f: NodeFeatures): number {
  if (isSparseFeatures(f)) return f.indptr.length - 1;
  return f.dim === 0 ? 0 : f.data.length / f.dim;
}

/** Throws unless `f` is well formed and has `numNodes` rows. */
export function validateFeatures(f: NodeFeatures, numNodes: number): void {
  if (!Number.isInteger(f.dim) || f.dim < 0) {
    throw new GraphCoreError('features', `dim must be a non-negative integer, got ${f.dim}`);
  }
  if (isSparseFeatures(f)) {
    if (f.indptr.length !== numNodes + 1) {
      throw new GraphCoreError(
        'features',
        `sparse features need indptr of length numNodes + 1 = ${numNodes + 1}, got ${f.indptr.length}`,
      );
    }
    const nnz = f.indptr[numNodes]!;
    if (f.indptr[0] !== 0 || f.indices.length !== nnz || f.values.length !== nnz) {
      throw new GraphCoreError(
        'features',
        `sparse features need indptr[0] = 0 and ${nnz} indices and values, got ${f.indices.length} and ${f.values.length}`,
      );
    }
    for (let r = 0; r < numNodes; r++) {
      if (f.indptr[r + 1]! < f.indptr[r]!) {
        throw new GraphCoreError('features', `feature indptr must be non-decreasing at row ${r}`);
      }
    }
    for (let e = 0; e < nnz; e++) {
      const c = f.indices[e]!;
      if (c < 0 || c >= f.dim) {
        throw new GraphCoreError(
          'features',
          `feature column ${c} at entry ${e} is out of range [0, ${f.dim})`,
        );
      }
    }
    return;
  }
  if (f.data.length !== numNodes * f.dim) {
    throw new GraphCoreError(
      'features',
      `dense features need numNodes * dim = ${numNodes * f.dim} values, got ${f.data.length}`,
    );
  }
}

/**
 * Divide each feature row by its sum (GCN/GAT preprocessing, Kipf & Welling
 * 2017); all-zero rows stay zero instead of becoming NaN.
 */
export function rowNormalizeFeatures<F extends NodeFeatures>(f: F): F {
  if (isSparseFeatures(f)) {
    const values = new Float32Array(f.values.length);
    const n = f.indptr.length - 1;
    for (let r = 0; r < n; r++) {
      const a = f.indptr[r]!;
      const b = f.indptr[r + 1]!;
      let s = 0;
      for (let e = a; e < b; e++) s += f.values[e]!;
      const inv = s === 0 ? 0 : 1 / s;
      for (let e = a; e < b; e++) values[e] = f.values[e]! * inv;
    }
    return { indptr: f.indptr, indices: f.indices, values, dim: f.dim } as SparseFeatures as F;
  }
  const { data, dim } = f as DenseFeatures;
  const out = new Float32Array(data.length);
  for (let o = 0; o < data.length; o += dim) {
    let s = 0;
    for (let j = 0; j < dim; j++) s += data[o + j]!;
    const inv = s === 0 ? 0 : 1 / s;
    for (let j = 0; j < dim; j++) out[o + j] = data[o + j]! * inv;
  }
  return { data: out, dim } as DenseFeatures as F;
}

/** Dense row-major copy of any {@link NodeFeatures}. */
export function densifyFeatures(f: NodeFeatures): DenseFeatures {
  if (!isSparseFeatures(f)) return f;
  const n = f.indptr.length - 1;
  const data = new Float32Array(n * f.dim);
  for (let r = 0; r < n; r++) {
    for (let e = f.indptr[r]!; e < f.indptr[r + 1]!; e++)
      data[r * f.dim + f.indices[e]!] = f.values[e]!;
  }
  return { data, dim: f.dim };
}

/** Features of the rows `nodes` (in that order). */
export function selectFeatureRows(f: NodeFeatures, nodes: Int32Array): NodeFeatures {
  if (isSparseFeatures(f)) {
    const indptr = new Int32Array(nodes.length + 1);
    for (let i = 0; i < nodes.length; i++) {
      const u = nodes[i]!;
      indptr[i + 1] = indptr[i]! + f.indptr[u + 1]! - f.indptr[u]!;
    }
    const indices = new Int32Array(indptr[nodes.length]!);
    const values = new Float32Array(indices.length);
    for (let i = 0; i < nodes.length; i++) {
      const u = nodes[i]!;
      indices.set(f.indices.subarray(f.indptr[u]!, f.indptr[u + 1]!), indptr[i]!);
      values.set(f.values.subarray(f.indptr[u]!, f.indptr[u + 1]!), indptr[i]!);
    }
    return { indptr, indices, values, dim: f.dim };
  }
  const data = new Float32Array(nodes.length * f.dim);
  for (let i = 0; i < nodes.length; i++) {
    const u = nodes[i]!;
    data.set(f.data.subarray(u * f.dim, (u + 1) * f.dim), i * f.dim);
  }
  return { data, dim: f.dim };
}

/** Stack the feature rows of several graphs (all dense or all sparse, same dim). */
export function concatFeatures(parts: readonly NodeFeatures[]): NodeFeatures {
  const first = parts[0]!;
  for (const p of parts) {
    if (p.dim !== first.dim || isSparseFeatures(p) !== isSparseFeatures(first)) {
      throw new GraphCoreError(
        'features',
        `batched graphs need features of one kind and dim ${first.dim}, got dim ${p.dim}`,
      );
    }
  }
  if (isSparseFeatures(first)) {
    const sp = parts as readonly SparseFeatures[];
    const rows = sp.reduce((s, p) => s + p.indptr.length - 1, 0);
    const nnz = sp.reduce((s, p) => s + p.indices.length, 0);
    const indptr = new Int32Array(rows + 1);
    const indices = new Int32Array(nnz);
    const values = new Float32Array(nnz);
    let r0 = 0;
    let e0 = 0;
    for (const p of sp) {
      const n = p.indptr.length - 1;
      for (let r = 1; r <= n; r++) indptr[r0 + r] = e0 + p.indptr[r]!;
      indices.set(p.indices, e0);
      values.set(p.values, e0);
      r0 += n;
      e0 += p.indices.length;
    }
    return { indptr, indices, values, dim: first.dim };
  }
  const dp = parts as readonly DenseFeatures[];
  const data = new Float32Array(dp.reduce((s, p) => s + p.data.length, 0));
  let o = 0;
  for (const p of dp) {
    data.set(p.data, o);
    o += p.data.length;
  }
  return { data, dim: first.dim };
}
