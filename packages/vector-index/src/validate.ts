import { VectorIndexError } from './errors.js';

/** Vector input: a typed array or plain array of numbers. */
export type VectorLike = Float32Array | Float64Array | ArrayLike<number>;

/** Throw unless `vector` has exactly `dim` components. */
export function checkVector(module: string, vector: VectorLike, dim: number): void {
  if (vector === null || typeof vector !== 'object' || typeof vector.length !== 'number') {
    throw new VectorIndexError(
      module,
      `expected a vector of ${dim} numbers, got ${String(vector)}`,
    );
  }
  if (vector.length !== dim) {
    throw new VectorIndexError(
      module,
      `vector has dimension ${vector.length}; expected dimension ${dim}`,
    );
  }
}

/** Throw unless `label` is a non-negative safe integer. */
export function checkLabel(module: string, label: number): void {
  if (!Number.isSafeInteger(label) || label < 0) {
    throw new VectorIndexError(
      module,
      `label must be a non-negative safe integer, got ${String(label)}`,
    );
  }
}

/** Throw unless `value` is an integer in [min, max]. */
export function checkInt(
  module: string,
  name: string,
  value: number,
  min: number,
  max = Number.MAX_SAFE_INTEGER,
): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `in [${min}, ${max}]`;
    throw new VectorIndexError(module, `${name} must be an integer ${range}, got ${String(value)}`);
  }
}

/**
 * Split a batch given as one flat array (n * dim numbers) or as an array of
 * vectors into a row accessor, checking the count against `n`.
 */
export function batchRows(
  module: string,
  vectors: Float32Array | readonly VectorLike[],
  n: number,
  dim: number,
): (i: number) => { data: ArrayLike<number>; offset: number } {
  if (ArrayBuffer.isView(vectors)) {
    const flat = vectors as Float32Array;
    if (flat.length !== n * dim) {
      throw new VectorIndexError(
        module,
        `flat vector batch has ${flat.length} numbers; expected ${n} labels x dimension ${dim} = ${n * dim}`,
      );
    }
    return (i) => ({ data: flat, offset: i * dim });
  }
  const rows = vectors as readonly VectorLike[];
  if (rows.length !== n) {
    throw new VectorIndexError(
      module,
      `got ${rows.length} vectors for ${n} labels; expected one vector per label`,
    );
  }
  return (i) => {
    const row = rows[i]!;
    checkVector(module, row, dim);
    return { data: row, offset: 0 };
  };
}
