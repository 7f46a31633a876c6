import { PlexusTensorError } from '../errors.js';

/**
 * Throw unless `actual` and `expected` have the same length and every pair
 * satisfies `|a - e| <= tol * (1 + |e|)` (NaN matches NaN only). The message
 * names the first bad position, so a failing kernel test says where.
 */
export function expectArraysClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  tol = 1e-5,
  label = 'arrays',
): void {
  if (actual.length !== expected.length) {
    throw new PlexusTensorError(
      'testing',
      `${label}: length ${actual.length} differs from expected ${expected.length}`,
    );
  }
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    if (Number.isNaN(e) ? !Number.isNaN(a) : !(Math.abs(a - e) <= tol * (1 + Math.abs(e)))) {
      throw new PlexusTensorError(
        'testing',
        `${label}: element ${i} is ${a}, expected ${e} (tolerance ${tol}, relative to 1 + |expected|)`,
      );
    }
  }
}
