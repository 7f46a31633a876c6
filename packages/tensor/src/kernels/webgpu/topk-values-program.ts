import type { ProgramSpec } from './program.js';

/**
 * Gather the values of the chosen top-k indices: `values[r, j] = x[r,
 * indices[r, j]]`, one thread per output element. A second program because
 * a tfjs program has one output; the gather is cheap next to the selection.
 * Elements `[offset, offset + count)` of the block; `x` rows start at `rowOffset`.
 */
export function topKValuesProgram(
  n: number,
  k: number,
  rowOffset: number,
  offset: number,
  count: number,
  dispatch: [number, number, number],
): ProgramSpec {
  return {
    key: 'plexusTopKValues',
    variableNames: ['x', 'topIndices'],
    uniforms: [
      ['n', n],
      ['k', k],
      ['rowOffset', rowOffset],
      ['offset', offset],
      ['count', count],
    ],
    dispatch,
    code: `
      fn main(thread : i32) {
        if (thread >= uniforms.count) { return; }
        let o = uniforms.offset + thread;
        let r = o / uniforms.k;
        result[o] = f32(x[(uniforms.rowOffset + r) * uniforms.n + topIndices[o]]);
      }
    `,
  };
}
