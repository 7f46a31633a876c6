import { GraphCoreError } from '../errors.js';

/** Throws unless `x` is an integer in `[min, max]`. */
export function checkInt(name: string, x: number, min: number, max = 0x7fffffff): void {
  if (!Number.isInteger(x) || x < min || x > max) {
    throw new GraphCoreError(
      'generators',
      `${name} must be an integer in [${min}, ${max}], got ${x}`,
    );
  }
}

/** Throws unless `p` is a probability. */
export function checkProb(name: string, p: number): void {
  if (!(p >= 0 && p <= 1))
    throw new GraphCoreError('generators', `${name} must be a probability in [0, 1], got ${p}`);
}
