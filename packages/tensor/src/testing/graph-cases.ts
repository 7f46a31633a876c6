import { CsrMatrix } from '../csr/csr-matrix.js';
import { SeededRandom } from '../random.js';

/** A named sparse matrix for kernel tests. */
export interface GraphCase {
  readonly name: string;
  readonly matrix: CsrMatrix;
}

/**
 * Sparse matrices that break naive kernels: no rows, a single node with a
 * self loop, duplicate entries, empty rows (isolated nodes), one row holding
 * every column (a hub of huge degree), a rectangular matrix, and a random one.
 */
export function graphCases(seed = 7, scale = 1): GraphCase[] {
  const rng = new SeededRandom(seed);
  const random = (rows: number, cols: number, nnz: number, weighted: boolean): CsrMatrix => {
    const r = Array.from({ length: nnz }, () => rng.int(rows));
    const c = Array.from({ length: nnz }, () => rng.int(cols));
    const w = weighted ? Array.from({ length: nnz }, () => rng.uniform() * 2 - 1) : undefined;
    return CsrMatrix.fromCoo(r, c, [rows, cols], w);
  };
  const hubCols = 300 * scale;
  return [
    { name: 'empty (0 x 0)', matrix: CsrMatrix.fromCoo([], [], [0, 0]) },
    { name: 'no entries (5 x 4)', matrix: CsrMatrix.fromCoo([], [], [5, 4]) },
    { name: 'single node self loop', matrix: CsrMatrix.fromCoo([0], [0], [1, 1], [2.5]) },
    {
      name: 'duplicate entries',
      matrix: CsrMatrix.fromCoo([0, 0, 0, 2, 2], [1, 1, 1, 0, 0], [3, 3], [1, 2, 3, -1, 0.5]),
    },
    { name: 'isolated nodes', matrix: CsrMatrix.fromCoo([1, 4, 4], [4, 1, 6], [8, 8]) },
    {
      name: `hub of degree ${hubCols}`,
      matrix: CsrMatrix.fromCoo(
        Array.from({ length: hubCols }, () => 2),
        Array.from({ length: hubCols }, (_, i) => i),
        [4, hubCols],
        Array.from({ length: hubCols }, () => rng.uniform()),
      ),
    },
    { name: 'rectangular weighted', matrix: random(13, 29, 60 * scale, true) },
    { name: 'random unweighted', matrix: random(40 * scale, 40 * scale, 200 * scale, false) },
  ];
}
