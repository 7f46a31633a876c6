import { PlexusTensorError } from '../errors.js';
import { CsrTensorCache } from './csr-tensor-cache.js';
import { buildCsrTranspose } from './csr-transpose.js';

/** Plain arrays describing a CSR sparse matrix of shape `[numRows, numCols]`. */
export interface CsrArrays {
  /** Row pointer, length `numRows + 1`, non-decreasing, `indptr[0] = 0`. */
  readonly indptr: Int32Array;
  /** Column index of each stored entry, length `indptr[numRows]`. */
  readonly indices: Int32Array;
  /** Optional value (edge weight) of each stored entry; absent means all ones. */
  readonly values?: Float32Array | undefined;
  /** Number of columns; every index must be in `[0, numCols)`. */
  readonly numCols: number;
}

/** Options for {@link CsrMatrix.fromArrays}. */
export interface CsrFromArraysOptions {
  /** Copy the arrays (default `false`: the matrix views the caller's arrays, which must not change). */
  readonly copy?: boolean;
  /** Check structure and index ranges (default `true`). Skipping is for arrays already validated. */
  readonly validate?: boolean;
}

/** A CSR transpose plus the permutation that maps its entries back to the original's. */
export interface CsrTranspose {
  /** The transposed matrix (`[numCols, numRows]`). */
  readonly matrix: CsrMatrix;
  /** `perm[k]` is the original entry index of the transpose's entry `k`. */
  readonly perm: Int32Array;
}

/**
 * An immutable sparse matrix in compressed-sparse-row form, held in host typed
 * arrays and validated once at construction, so kernels never see bad indices.
 * Device tensors of its arrays are created on first use and cached; call
 * {@link CsrMatrix.dispose} to release them.
 */
export class CsrMatrix {
  readonly numRows: number;
  readonly numCols: number;
  readonly indptr: Int32Array;
  readonly indices: Int32Array;
  readonly values: Float32Array | undefined;
  private transposeCache: CsrTranspose | undefined;
  private rowIdsCache: Int32Array | undefined;
  /** @internal device tensors of this matrix, per backend. */
  readonly tensors: CsrTensorCache;

  private constructor(arrays: CsrArrays) {
    this.indptr = arrays.indptr;
    this.indices = arrays.indices;
    this.values = arrays.values;
    this.numRows = arrays.indptr.length - 1;
    this.numCols = arrays.numCols;
    this.tensors = new CsrTensorCache(this);
  }

  /** Number of stored entries (edges). */
  get nnz(): number {
    return this.indices.length;
  }

  /** Build from CSR arrays, validating them unless told not to. */
  static fromArrays(arrays: CsrArrays, options: CsrFromArraysOptions = {}): CsrMatrix {
    const { copy = false, validate = true } = options;
    if (validate) validateCsrArrays(arrays);
    const owned: CsrArrays = copy
      ? {
          indptr: arrays.indptr.slice(),
          indices: arrays.indices.slice(),
          values: arrays.values?.slice(),
          numCols: arrays.numCols,
        }
      : arrays;
    return new CsrMatrix(owned);
  }

  /**
   * Build from coordinate (COO) triplets. Entries are sorted by row (stable,
   * so the order within a row is the input order); duplicates are kept, and
   * kernels sum them, as a scatter-add would.
   */
  static fromCoo(
    rows: ArrayLike<number>,
    cols: ArrayLike<number>,
    shape: readonly [number, number],
    values?: ArrayLike<number>,
  ): CsrMatrix {
    const [numRows, numCols] = shape;
    checkDimension('numRows', numRows);
    checkDimension('numCols', numCols);
    if (rows.length !== cols.length) {
      throw new PlexusTensorError(
        'csr',
        `rows and cols must have the same length, got ${rows.length} and ${cols.length}`,
      );
    }
    if (values !== undefined && values.length !== rows.length) {
      throw new PlexusTensorError(
        'csr',
        `values must have one entry per (row, col) pair: expected ${rows.length}, got ${values.length}`,
      );
    }
    const nnz = rows.length;
    const indptr = new Int32Array(numRows + 1);
    for (let e = 0; e < nnz; e++) {
      const r = rows[e]!;
      const c = cols[e]!;
      if (!Number.isInteger(r) || r < 0 || r >= numRows) {
        throw new PlexusTensorError(
          'csr',
          `row index ${r} at entry ${e} is out of range [0, ${numRows})`,
        );
      }
      if (!Number.isInteger(c) || c < 0 || c >= numCols) {
        throw new PlexusTensorError(
          'csr',
          `column index ${c} at entry ${e} is out of range [0, ${numCols})`,
        );
      }
      indptr[r + 1]!++;
    }
    for (let r = 0; r < numRows; r++) indptr[r + 1]! += indptr[r]!;
    const next = indptr.slice(0, numRows);
    const indices = new Int32Array(nnz);
    const vals = values === undefined ? undefined : new Float32Array(nnz);
    for (let e = 0; e < nnz; e++) {
      const slot = next[rows[e]!]!++;
      indices[slot] = cols[e]!;
      if (vals !== undefined) vals[slot] = values![e]!;
    }
    return new CsrMatrix({ indptr, indices, values: vals, numCols });
  }

  /** The transpose (computed once, then cached) and its entry permutation. */
  transpose(): CsrTranspose {
    if (this.transposeCache === undefined) {
      const t = buildCsrTranspose(
        this.indptr,
        this.indices,
        this.values,
        this.numRows,
        this.numCols,
      );
      this.transposeCache = {
        matrix: new CsrMatrix({
          indptr: t.indptr,
          indices: t.indices,
          values: t.values,
          numCols: this.numRows,
        }),
        perm: t.perm,
      };
    }
    return this.transposeCache;
  }

  /** Row index of every stored entry (COO rows), computed once. */
  rowIds(): Int32Array {
    if (this.rowIdsCache === undefined) {
      const ids = new Int32Array(this.nnz);
      for (let r = 0; r < this.numRows; r++) ids.fill(r, this.indptr[r]!, this.indptr[r + 1]!);
      this.rowIdsCache = ids;
    }
    return this.rowIdsCache;
  }

  /** Release the cached device tensors of this matrix and of its transpose. */
  dispose(): void {
    this.tensors.dispose();
    this.transposeCache?.matrix.dispose();
  }
}

function checkDimension(name: string, n: number): void {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) {
    throw new PlexusTensorError('csr', `${name} must be a non-negative int32, got ${n}`);
  }
}

/** Throws a {@link PlexusTensorError} naming the first structural problem of `arrays`. */
export function validateCsrArrays(arrays: CsrArrays): void {
  const { indptr, indices, values, numCols } = arrays;
  if (!(indptr instanceof Int32Array))
    throw new PlexusTensorError('csr', 'indptr must be an Int32Array');
  if (!(indices instanceof Int32Array))
    throw new PlexusTensorError('csr', 'indices must be an Int32Array');
  if (values !== undefined && !(values instanceof Float32Array)) {
    throw new PlexusTensorError('csr', 'values must be a Float32Array or undefined');
  }
  checkDimension('numCols', numCols);
  if (indptr.length < 1)
    throw new PlexusTensorError('csr', 'indptr must have numRows + 1 >= 1 entries');
  if (indptr[0] !== 0) throw new PlexusTensorError('csr', `indptr[0] must be 0, got ${indptr[0]}`);
  const numRows = indptr.length - 1;
  for (let r = 0; r < numRows; r++) {
    if (indptr[r + 1]! < indptr[r]!) {
      throw new PlexusTensorError(
        'csr',
        `indptr must be non-decreasing: indptr[${r + 1}]=${indptr[r + 1]} < indptr[${r}]=${indptr[r]}`,
      );
    }
  }
  const nnz = indptr[numRows]!;
  if (indices.length !== nnz) {
    throw new PlexusTensorError(
      'csr',
      `indices has ${indices.length} entries but indptr[numRows] = ${nnz}`,
    );
  }
  if (values !== undefined && values.length !== nnz) {
    throw new PlexusTensorError(
      'csr',
      `values has ${values.length} entries but there are ${nnz} stored entries`,
    );
  }
  for (let e = 0; e < nnz; e++) {
    const c = indices[e]!;
    if (c < 0 || c >= numCols) {
      throw new PlexusTensorError(
        'csr',
        `column index ${c} at entry ${e} is out of range [0, ${numCols})`,
      );
    }
  }
}
