import type { ProgramSpec } from './program.js';

/** One dispatch of the sampled dense-dense product; see {@link sddmmProgram}. */
export interface SddmmDispatch {
  readonly vec: 1 | 4;
  /** Add to `result` (a later row block of `a` or `b`) instead of overwriting it. */
  readonly accumulate: boolean;
  /** Rows of the matrix (`indptr` has `numRows + 1` entries, bound whole). */
  readonly numRows: number;
  /** Global entry number of this dispatch's first thread, and entries it computes. */
  readonly entryStart: number;
  readonly numEntries: number;
  /** Global entry number of the bound `indices[0]` and of the bound output's element 0. */
  readonly entryBase: number;
  /** Rows of `a` and `b` bound: `[aRowStart, aRowStart + aNumRows)`, likewise for `b`. */
  readonly aRowStart: number;
  readonly aNumRows: number;
  readonly bRowStart: number;
  readonly bNumRows: number;
  /** Features per row of `a` and `b`. */
  readonly features: number;
  readonly dispatch: [number, number, number];
}

/**
 * `out[e] = dot(a[row(e)], b[indices[e]])`, one thread per entry: the row is
 * found by binary search in `indptr` (O(log R)), which balances work across
 * threads whatever the degree distribution, unlike a thread per row.
 * Entries whose row or column lies outside the bound `a`/`b` row blocks add
 * 0, so `a` and `b` can each be split over several bindings and summed.
 */
export function sddmmProgram(d: SddmmDispatch): ProgramSpec {
  const T = d.vec === 4 ? 'vec4<f32>' : 'f32';
  const mul = d.vec === 4 ? 'dot(av, bv)' : 'av * bv';
  const write = d.accumulate ? 'result[o] = result[o] + acc;' : 'result[o] = acc;';
  return {
    key: `plexusSddmm_${d.vec}_${d.accumulate}`,
    variableNames: ['indptr', 'indices', 'a', 'b'],
    variableComponents: [1, 1, d.vec, d.vec],
    uniforms: [
      ['numRows', d.numRows],
      ['entryStart', d.entryStart],
      ['numEntries', d.numEntries],
      ['entryBase', d.entryBase],
      ['aRowStart', d.aRowStart],
      ['aNumRows', d.aNumRows],
      ['bRowStart', d.bRowStart],
      ['bNumRows', d.bNumRows],
      ['chunks', d.features / d.vec],
    ],
    dispatch: d.dispatch,
    code: `
      fn main(index : i32) {
        if (index >= uniforms.numEntries) { return; }
        let e = uniforms.entryStart + index;
        // The last row whose first entry is <= e (empty rows before it share its start).
        var lo = 0;
        var hi = uniforms.numRows;
        while (hi - lo > 1) {
          let mid = (lo + hi) / 2;
          if (indptr[mid] <= e) { lo = mid; } else { hi = mid; }
        }
        let row = lo - uniforms.aRowStart;
        let col = indices[e - uniforms.entryBase] - uniforms.bRowStart;
        var acc = 0.0;
        if (row >= 0 && row < uniforms.aNumRows && col >= 0 && col < uniforms.bNumRows) {
          for (var c = 0; c < uniforms.chunks; c = c + 1) {
            // Conversions: tfjs may keep a float32 tensor in an int32 buffer.
            let av = ${T}(a[row * uniforms.chunks + c]);
            let bv = ${T}(b[col * uniforms.chunks + c]);
            acc = acc + ${mul};
          }
        }
        let o = e - uniforms.entryBase;
        ${write}
      }
    `,
  };
}
