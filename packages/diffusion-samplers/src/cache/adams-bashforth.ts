import { DiffusionSamplersError } from '../errors.js';
import { lagrangeIntegral } from '../samplers/linalg.js';

/**
 * Weights `w` with `F(target) ~ sum_j w[j] F(times[j])` (newest first) from
 * k-th order Adams–Bashforth extrapolation, as AB-Cache ("AB-Cache:
 * Training-Free Acceleration of Diffusion Models via Adams-Bashforth Cached
 * Feature Reuse", 2025) does: backward differences
 * `D_j = (F_j - F_{j+1}) / (t_j - t_{j+1})` play the role of the slope, and
 * `F(target) = F_1 + sum_j b_j D_j` with variable-step AB coefficients `b_j`.
 * `times` needs `order + 1` entries; order 0 is plain reuse (`w = [1]`). On
 * equal steps order 1 gives `2F_1 - F_2`, order 2 `2.5F_1 - 2F_2 + 0.5F_3`.
 */
export function adamsBashforthWeights(
  times: readonly number[],
  target: number,
  order: number,
): number[] {
  if (!Number.isInteger(order) || order < 0)
    throw new DiffusionSamplersError('ab-cache', `order must be an integer >= 0, got ${order}`);
  if (times.length < order + 1)
    throw new DiffusionSamplersError(
      'ab-cache',
      `order ${order} needs ${order + 1} cached evaluations, got ${times.length}`,
    );
  for (let j = 0; j < order; j++)
    if (!(times[j] !== times[j + 1]))
      throw new DiffusionSamplersError(
        'ab-cache',
        `cached times must be distinct, got ${times[j]} twice`,
      );
  const w = new Array<number>(order + 1).fill(0);
  w[0] = 1;
  if (order === 0) return w;
  // Slope nodes at the newer end of each difference (backward differences).
  const nodes = times.slice(0, order);
  for (let j = 0; j < order; j++) {
    const b = lagrangeIntegral(nodes, j, times[0]!, target);
    const dt = times[j]! - times[j + 1]!;
    w[j] = w[j]! + b / dt;
    w[j + 1] = w[j + 1]! - b / dt;
  }
  return w;
}
