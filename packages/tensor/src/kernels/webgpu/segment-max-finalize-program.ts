import type { ProgramSpec } from './program.js';

/**
 * Decode segment-max keys (`int32`, see `orderedKey`) into floats: `i32`
 * min (no row reached the segment) becomes 0, the NaN key NaN. Elements
 * `[offset, offset + count)`, so large outputs take several dispatches.
 */
export function segmentMaxFinalizeProgram(
  offset: number,
  count: number,
  dispatch: [number, number, number],
): ProgramSpec {
  return {
    key: 'plexusSegmentMaxFinalize',
    variableNames: ['keys'],
    uniforms: [
      ['offset', offset],
      ['count', count],
    ],
    dispatch,
    code: `
      fn main(thread : i32) {
        if (thread >= uniforms.count) { return; }
        let index = uniforms.offset + thread;
        let key = keys[index];
        if (key == bitcast<i32>(0x80000000u)) {
          result[index] = 0.0;
        } else if (key == 2147483647) {
          result[index] = uniforms.NAN;
        } else {
          let k = bitcast<u32>(key) ^ 0x80000000u;
          result[index] = bitcast<f32>(select(~k, k & 0x7fffffffu, (k & 0x80000000u) != 0u));
        }
      }
    `,
  };
}
