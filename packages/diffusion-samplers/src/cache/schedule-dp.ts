import { DiffusionSamplersError } from '../errors.js';

/**
 * Chooses which of `M` model calls run in full, under a budget of `budget`
 * full calls, to minimise the summed cache error, by dynamic programming as
 * CacheQuant ("CacheQuant: Comprehensively Accelerated Diffusion Models",
 * 2025) does. `errors[i][j]` (i < j) estimates the error of serving call j from
 * features refreshed at call i (e.g. from a calibration run, see
 * {@link reuseErrorMatrix}). Call 0 is always full. Returns a per-call
 * schedule (true = full) and the minimal total error.
 */
export function cacheScheduleDp(
  errors: readonly (readonly number[])[],
  budget: number,
): { schedule: boolean[]; totalError: number } {
  const M = errors.length;
  if (M === 0)
    throw new DiffusionSamplersError('cache-schedule', 'errors must cover at least one call');
  if (!Number.isInteger(budget) || budget < 1 || budget > M)
    throw new DiffusionSamplersError(
      'cache-schedule',
      `budget must be an integer in 1..${M} (the number of calls), got ${budget}`,
    );
  for (let i = 0; i < M; i++)
    for (let j = i + 1; j < M; j++) {
      const e = errors[i]?.[j];
      if (e === undefined || !(e >= 0))
        throw new DiffusionSamplersError(
          'cache-schedule',
          `errors[${i}][${j}] must be a finite number >= 0, got ${e}`,
        );
    }
  // seg[i][j] = cost of calls i+1..j-1 served from a refresh at i.
  const seg = (i: number, j: number): number => {
    let acc = 0;
    for (let l = i + 1; l < j; l++) acc += errors[i]![l]!;
    return acc;
  };
  // best[b][i]: minimal cost of calls i..M-1 given a refresh at i and b refreshes left after it.
  const best: number[][] = [];
  const next: number[][] = [];
  for (let b = 0; b < budget; b++) {
    best.push(new Array<number>(M).fill(Number.POSITIVE_INFINITY));
    next.push(new Array<number>(M).fill(-1));
    for (let i = M - 1; i >= 0; i--) {
      let value = seg(i, M);
      let arg = M;
      if (b > 0)
        for (let j = i + 1; j < M; j++) {
          const v = seg(i, j) + best[b - 1]![j]!;
          if (v < value) {
            value = v;
            arg = j;
          }
        }
      best[b]![i] = value;
      next[b]![i] = arg;
    }
  }
  const schedule = new Array<boolean>(M).fill(false);
  let i = 0;
  let b = budget - 1;
  while (i < M) {
    schedule[i] = true;
    const j = next[b]![i]!;
    i = j;
    b--;
    if (b < 0) break;
  }
  return { schedule, totalError: best[budget - 1]![0]! };
}

/**
 * The error matrix of plain feature reuse from a calibration run:
 * `E[i][j] = ||F_j - F_i|| / ||F_j||` for the features `F` recorded at each
 * call of an uncached run.
 */
export function reuseErrorMatrix(features: readonly ArrayLike<number>[]): number[][] {
  const M = features.length;
  const norms = features.map((f) => Math.sqrt(Array.from(f).reduce((a, v) => a + v * v, 0)));
  const out: number[][] = [];
  for (let i = 0; i < M; i++) {
    const row = new Array<number>(M).fill(0);
    for (let j = i + 1; j < M; j++) {
      const a = features[i]!;
      const b = features[j]!;
      let acc = 0;
      for (let k = 0; k < b.length; k++) acc += (b[k]! - a[k]!) ** 2;
      row[j] = Math.sqrt(acc) / Math.max(norms[j]!, 1e-30);
    }
    out.push(row);
  }
  return out;
}
