import type { ProgramSpec } from './program.js';

/** One dispatch of top-k selection; see {@link topKIndicesProgram}. */
export interface TopKDispatch {
  readonly n: number;
  readonly k: number;
  /** Position in the bound `x` (as `[rows, n]`) of this dispatch's first row. */
  readonly rowOffset: number;
  readonly numRows: number;
  /** Position in the bound output (as `[rows, k]`) of this dispatch's first row. */
  readonly outRowOffset: number;
  readonly dispatch: [number, number, number];
}

/**
 * Indices of the top k of each row, one thread per row: k passes, each
 * picking the best element strictly after the previous pick in the order
 * "larger value first, NaN above all, lower index first among equals".
 * O(n·k) reads and no scratch memory, which suits routers (n <= 256,
 * k <= 8) and stays correct (if slow) for any n and k.
 */
export function topKIndicesProgram(d: TopKDispatch): ProgramSpec {
  return {
    key: 'plexusTopKIndices',
    variableNames: ['x'],
    uniforms: [
      ['n', d.n],
      ['k', d.k],
      ['rowOffset', d.rowOffset],
      ['numRows', d.numRows],
      ['outRowOffset', d.outRowOffset],
    ],
    dispatch: d.dispatch,
    code: `
      // Whether (v, i) ranks before (w, j). isnan() compares bits, so
      // fast-math compilers cannot fold the NaN checks away.
      fn ranksBefore(v : f32, i : i32, w : f32, j : i32) -> bool {
        let vn = isnan(v);
        let wn = isnan(w);
        if (vn != wn) { return vn; }
        if (!vn && v != w) { return v > w; }
        return i < j;
      }
      fn main(index : i32) {
        if (index >= uniforms.numRows) { return; }
        let base = (uniforms.rowOffset + index) * uniforms.n;
        let out = (uniforms.outRowOffset + index) * uniforms.k;
        var prevV = 0.0;
        var prevI = -1;
        for (var j = 0; j < uniforms.k; j = j + 1) {
          var bestV = 0.0;
          var bestI = -1;
          for (var i = 0; i < uniforms.n; i = i + 1) {
            let v = f32(x[base + i]);
            if (prevI >= 0 && !ranksBefore(prevV, prevI, v, i)) { continue; }
            if (bestI < 0 || ranksBefore(v, i, bestV, bestI)) {
              bestV = v;
              bestI = i;
            }
          }
          result[out + j] = bestI;
          prevV = bestV;
          prevI = bestI;
        }
      }
    `,
  };
}
