import type { ProgramSpec } from './program.js';

/** One dispatch of a segment reduction; see {@link segmentScatterProgram}. */
export interface SegmentDispatch {
  readonly reduce: 'sum' | 'max';
  /** Position in the bound `data`/`segmentIds` of this dispatch's first row. */
  readonly rowOffset: number;
  readonly numRows: number;
  readonly numFeatures: number;
  /** Segments held by the bound output block: `[segmentStart, segmentStart + numSegments)`. */
  readonly segmentStart: number;
  readonly numSegments: number;
  readonly dispatch: [number, number, number];
}

/**
 * Maps an `f32` to an `i32` whose signed order is the float order, with NaN
 * above everything (so it propagates, as the host kernel does) and never
 * equal to `i32` min, which therefore marks "no row seen".
 */
export const ORDERED_KEY_WGSL = `
  fn orderedKey(v : f32) -> i32 {
    if (isnan(v)) { return 2147483647; }
    let u = bitcast<u32>(v);
    // Negative floats: flip all bits; positive: set the sign bit. Unsigned
    // order is then float order; xor-ing the top bit makes it signed order.
    let k = select(u | 0x80000000u, ~u, (u & 0x80000000u) != 0u);
    return bitcast<i32>(k ^ 0x80000000u);
  }
`;

/**
 * Scatter rows of `data` ([E, F]) into segments, one thread per (row,
 * feature). WGSL has no float atomics, so `result` is `atomic<i32>`:
 * - sum: compare-and-swap loop adding to the float bits;
 * - max: native `atomicMax` on {@link ORDERED_KEY_WGSL} keys, decoded by
 *   the finalize program; exact and order-independent.
 * Ids outside the bound segment block are skipped, which also drops ids
 * out of `[0, numSegments)` that webgpu cannot validate before running.
 */
export function segmentScatterProgram(d: SegmentDispatch): ProgramSpec {
  const update =
    d.reduce === 'max'
      ? 'atomicMax(&result[o], orderedKey(v));'
      : `var old = atomicLoad(&result[o]);
        loop {
          let res = atomicCompareExchangeWeak(&result[o], old, bitcast<i32>(bitcast<f32>(old) + v));
          if (res.exchanged) { break; }
          old = res.old_value;
        }`;
  return {
    key: `plexusSegmentScatter_${d.reduce}`,
    variableNames: ['data', 'segmentIds'],
    atomic: true,
    uniforms: [
      ['rowOffset', d.rowOffset],
      ['numRows', d.numRows],
      ['numFeatures', d.numFeatures],
      ['segmentStart', d.segmentStart],
      ['numSegments', d.numSegments],
    ],
    dispatch: d.dispatch,
    code: `
      ${d.reduce === 'max' ? ORDERED_KEY_WGSL : ''}
      fn main(index : i32) {
        if (index >= uniforms.numRows * uniforms.numFeatures) { return; }
        let lr = index / uniforms.numFeatures;
        let f = index - lr * uniforms.numFeatures;
        let row = uniforms.rowOffset + lr;
        let seg = segmentIds[row] - uniforms.segmentStart;
        if (seg < 0 || seg >= uniforms.numSegments) { return; }
        // f32(): tfjs may keep a float32 tensor in an int32 buffer (e.g. a cast from bool).
        let v = f32(data[row * uniforms.numFeatures + f]);
        let o = seg * uniforms.numFeatures + f;
        ${update}
      }
    `,
  };
}
