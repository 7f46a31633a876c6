import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dequantizeRow, qmaxOf, quantizeRow } from '../src/index.js';

describe('group quantisation (property)', () => {
  it('round trip stays within max|x| / (2 qmax) per group for any finite floats', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(8 as const, 4 as const),
        fc.constantFrom(2, 4, 8),
        fc.integer({ min: 1, max: 6 }),
        fc.array(fc.float({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }), {
          minLength: 48,
          maxLength: 48,
        }),
        (bits, groupSize, groups, raw) => {
          const n = groupSize * groups;
          const x = Float32Array.from(raw.slice(0, n));
          const codes = bits === 8 ? new Int8Array(n) : new Uint8Array(n / 2);
          const scales = new Float32Array(groups);
          quantizeRow(bits, groupSize, x, 0, n, codes, 0, scales, 0);
          const back = new Float32Array(n);
          dequantizeRow(bits, groupSize, codes, 0, scales, 0, n, back, 0);
          for (let g = 0; g < groups; g++) {
            let maxAbs = 0;
            for (let i = 0; i < groupSize; i++)
              maxAbs = Math.max(maxAbs, Math.abs(x[g * groupSize + i]!));
            const bound = (maxAbs / (2 * qmaxOf(bits))) * (1 + 1e-5) + 2 ** -150;
            for (let i = 0; i < groupSize; i++) {
              const at = g * groupSize + i;
              expect(Math.abs(back[at]! - x[at]!)).toBeLessThanOrEqual(bound);
            }
          }
        },
      ),
      { numRuns: 300, seed: 8 },
    );
  });
});
