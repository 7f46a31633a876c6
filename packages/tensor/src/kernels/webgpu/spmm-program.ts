import type { ProgramSpec } from './program.js';

/** One dispatch of the CSR × dense product; see {@link spmmProgram}. */
export interface SpmmDispatch {
  /** Features per load: 4 binds `x` and `result` as `vec4<f32>`. */
  readonly vec: 1 | 4;
  readonly weighted: boolean;
  /** Add to `result` (a later entry or column block) instead of overwriting it. */
  readonly accumulate: boolean;
  /** Position in the bound `indptr` of this dispatch's first row. */
  readonly rowOffset: number;
  /** Rows this dispatch computes. */
  readonly numRows: number;
  /** First output row (within the bound output block) of this dispatch. */
  readonly outRowOffset: number;
  /** Global entry number of the bound `indices[0]`/`weights[0]`. */
  readonly entryBase: number;
  /** Entries taken, as global entry numbers `[entryStart, entryEnd)`. */
  readonly entryStart: number;
  readonly entryEnd: number;
  /** Columns of the matrix (rows of `x`) bound: `[colStart, colStart + numCols)`. */
  readonly colStart: number;
  readonly numCols: number;
  /** Features per row of `x` and of the output. */
  readonly features: number;
  readonly dispatch: [number, number, number];
}

/**
 * CSR × dense: one thread per (row, group of `vec` features), looping over
 * the row's entries, so the `[E, F]` gathered matrix never exists and each
 * output element is written once. Consecutive threads read consecutive
 * features of one `x` row, so the loads coalesce; the row's `indices` are
 * the same address across those threads (a broadcast).
 *
 * Tiling: each dispatch covers `[entryStart, entryEnd)` ∩ the row's entries
 * and only columns in the bound block of `x` rows, and may accumulate, so
 * entries and `x` can each be split over several bindings.
 */
export function spmmProgram(d: SpmmDispatch): ProgramSpec {
  const T = d.vec === 4 ? 'vec4<f32>' : 'f32';
  // Conversions: tfjs may keep a float32 tensor in an int32 buffer (e.g. a cast from bool).
  const weight = d.weighted ? 'f32(weights[e - uniforms.entryBase]) * ' : '';
  const write = d.accumulate ? 'result[o] = result[o] + acc;' : 'result[o] = acc;';
  return {
    key: `plexusSpmm_${d.vec}_${d.weighted}_${d.accumulate}`,
    variableNames: d.weighted ? ['indptr', 'indices', 'x', 'weights'] : ['indptr', 'indices', 'x'],
    variableComponents: d.weighted ? [1, 1, d.vec, 1] : [1, 1, d.vec],
    outputComponent: d.vec,
    uniforms: [
      ['rowOffset', d.rowOffset],
      ['numRows', d.numRows],
      ['outRowOffset', d.outRowOffset],
      ['entryBase', d.entryBase],
      ['entryStart', d.entryStart],
      ['entryEnd', d.entryEnd],
      ['colStart', d.colStart],
      ['numCols', d.numCols],
      ['chunks', d.features / d.vec],
    ],
    dispatch: d.dispatch,
    code: `
      fn main(index : i32) {
        if (index >= uniforms.numRows * uniforms.chunks) { return; }
        let lr = index / uniforms.chunks;
        let c = index - lr * uniforms.chunks;
        let r = uniforms.rowOffset + lr;
        let begin = max(indptr[r], uniforms.entryStart);
        let end = min(indptr[r + 1], uniforms.entryEnd);
        var acc = ${T}(0.0);
        for (var e = begin; e < end; e = e + 1) {
          let col = indices[e - uniforms.entryBase] - uniforms.colStart;
          // Columns outside the bound x block belong to another dispatch.
          if (col >= 0 && col < uniforms.numCols) {
            acc = acc + ${weight}${T}(x[col * uniforms.chunks + c]);
          }
        }
        let o = (uniforms.outRowOffset + lr) * uniforms.chunks + c;
        ${write}
      }
    `,
  };
}
