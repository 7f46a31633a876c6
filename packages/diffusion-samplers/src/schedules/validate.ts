import { DiffusionSamplersError } from '../errors.js';

/**
 * Checks a sigma grid before any model call: at least two points, finite,
 * non-negative and strictly decreasing (a final 0 is allowed and usual).
 */
export function validateSigmas(sigmas: ArrayLike<number>, module = 'grid'): void {
  if (sigmas.length < 2)
    throw new DiffusionSamplersError(
      module,
      `a sigma grid needs at least 2 points (start and end), got ${sigmas.length}`,
    );
  for (let i = 0; i < sigmas.length; i++) {
    const s = sigmas[i]!;
    if (!Number.isFinite(s) || s < 0)
      throw new DiffusionSamplersError(
        module,
        `sigma schedule must be finite and non-negative; sigmas[${i}] = ${s}`,
      );
    if (i > 0 && !(s < sigmas[i - 1]!))
      throw new DiffusionSamplersError(
        module,
        `sigma schedule must be strictly decreasing; sigmas[${i - 1}] = ${sigmas[i - 1]} then sigmas[${i}] = ${s}`,
      );
  }
  if (sigmas[0] === 0)
    throw new DiffusionSamplersError(module, 'sigma schedule must start above 0');
}

/** Checks a step count or NFE budget: a positive integer. */
export function validateCount(value: number, what: string, module = 'grid'): void {
  if (!Number.isInteger(value) || value <= 0)
    throw new DiffusionSamplersError(module, `${what} must be a positive integer, got ${value}`);
}
