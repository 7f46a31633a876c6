import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PlexusTensorError } from '../errors.js';
import { CsrMatrix } from './csr-matrix.js';

const coo = fc
  .record({ rows: fc.integer({ min: 0, max: 12 }), cols: fc.integer({ min: 0, max: 12 }) })
  .chain(({ rows, cols }) =>
    fc.record({
      rows: fc.constant(rows),
      cols: fc.constant(cols),
      entries:
        rows === 0 || cols === 0
          ? fc.constant([] as Array<[number, number, number]>)
          : fc.array(
              fc.tuple(
                fc.nat(rows - 1),
                fc.nat(cols - 1),
                fc.float({ noNaN: true, min: -4, max: 4 }),
              ),
              { maxLength: 60 },
            ),
    }),
  );

describe('CsrMatrix', () => {
  it('fromCoo keeps every entry, grouped by row in input order', () => {
    fc.assert(
      fc.property(coo, ({ rows, cols, entries }) => {
        const m = CsrMatrix.fromCoo(
          entries.map((e) => e[0]),
          entries.map((e) => e[1]),
          [rows, cols],
          entries.map((e) => e[2]),
        );
        expect(m.numRows).toBe(rows);
        expect(m.nnz).toBe(entries.length);
        for (let r = 0; r < rows; r++) {
          const mine = entries.filter((e) => e[0] === r);
          const got = Array.from(m.indices.subarray(m.indptr[r], m.indptr[r + 1]));
          expect(got).toEqual(mine.map((e) => e[1]));
          expect(Array.from(m.values!.subarray(m.indptr[r], m.indptr[r + 1]))).toEqual(
            mine.map((e) => Math.fround(e[2])),
          );
        }
        expect(Array.from(m.rowIds())).toEqual(entries.map((e) => e[0]).sort((a, b) => a - b));
      }),
    );
  });

  it('transpose twice gives the original, and perm maps entries back', () => {
    fc.assert(
      fc.property(coo, ({ rows, cols, entries }) => {
        const m = CsrMatrix.fromCoo(
          entries.map((e) => e[0]),
          entries.map((e) => e[1]),
          [rows, cols],
          entries.map((e) => e[2]),
        );
        const { matrix: t, perm } = m.transpose();
        expect(t.numRows).toBe(cols);
        expect(t.numCols).toBe(rows);
        const rowOf = m.rowIds();
        const tRow = t.rowIds();
        for (let k = 0; k < t.nnz; k++) {
          expect(t.indices[k]).toBe(rowOf[perm[k]!]);
          expect(m.indices[perm[k]!]).toBe(tRow[k]);
          expect(t.values![k]).toBe(m.values![perm[k]!]);
        }
        // Transposing twice sorts each row by column: compare rows as multisets.
        const back = t.transpose().matrix;
        expect(Array.from(back.indptr)).toEqual(Array.from(m.indptr));
        for (let r = 0; r < rows; r++) {
          const sorted = (v: Int32Array): number[] =>
            Array.from(v.subarray(m.indptr[r], m.indptr[r + 1])).sort((a, b) => a - b);
          expect(sorted(back.indices)).toEqual(sorted(m.indices));
        }
      }),
    );
  });

  it('rejects malformed arrays with a message naming the problem', () => {
    const bad = (arrays: Parameters<typeof CsrMatrix.fromArrays>[0]): string => {
      try {
        CsrMatrix.fromArrays(arrays);
      } catch (error) {
        expect(PlexusTensorError.isInstance(error)).toBe(true);
        return (error as Error).message;
      }
      throw new Error('expected a throw');
    };
    expect(
      bad({ indptr: Int32Array.from([1, 2]), indices: Int32Array.from([0]), numCols: 1 }),
    ).toMatch(/indptr\[0\] must be 0/);
    expect(
      bad({ indptr: Int32Array.from([0, 2, 1]), indices: Int32Array.from([0]), numCols: 1 }),
    ).toMatch(/non-decreasing/);
    expect(
      bad({ indptr: Int32Array.from([0, 2]), indices: Int32Array.from([0]), numCols: 1 }),
    ).toMatch(/indices has 1 entries but indptr\[numRows\] = 2/);
    expect(
      bad({ indptr: Int32Array.from([0, 1]), indices: Int32Array.from([-1]), numCols: 1 }),
    ).toMatch(/column index -1 at entry 0 is out of range \[0, 1\)/);
    expect(
      bad({ indptr: [0, 1] as unknown as Int32Array, indices: Int32Array.from([0]), numCols: 1 }),
    ).toMatch(/indptr must be an Int32Array/);
    expect(() => CsrMatrix.fromCoo([0, 3], [0, 0], [3, 1])).toThrow(
      /row index 3 at entry 1 is out of range \[0, 3\)/,
    );
    expect(() => CsrMatrix.fromCoo([0], [0, 1], [3, 3])).toThrow(/same length/);
  });

  it('views the caller arrays unless asked to copy', () => {
    const indptr = Int32Array.from([0, 1]);
    const indices = Int32Array.from([0]);
    expect(CsrMatrix.fromArrays({ indptr, indices, numCols: 1 }).indptr).toBe(indptr);
    expect(CsrMatrix.fromArrays({ indptr, indices, numCols: 1 }, { copy: true }).indptr).not.toBe(
      indptr,
    );
  });
});
