import { DiffusionSamplersError } from '../errors.js';

/** The discrete beta schedules diffusers ships (`beta_schedule`). */
export type BetaScheduleKind = 'linear' | 'scaled_linear' | 'squaredcos_cap_v2' | 'sigmoid';

/** Settings of {@link betaSchedule}. */
export interface BetaScheduleOptions {
  /** Number of training timesteps T (default 1000). */
  numTrainTimesteps?: number;
  /** First beta (default 1e-4; ignored by the cosine schedule). */
  betaStart?: number;
  /** Last beta (default 0.02; ignored by the cosine schedule). */
  betaEnd?: number;
}

/**
 * Betas of a discrete DDPM forward process ("Denoising Diffusion Probabilistic
 * Models", 2020: `linear`; Stable Diffusion's `scaled_linear`; "Improved
 * Denoising Diffusion Probabilistic Models", 2021: `squaredcos_cap_v2`;
 * GeoDiff's `sigmoid`, 2022), in float64 so `alphasCumprod` matches NumPy.
 */
export function betaSchedule(
  kind: BetaScheduleKind,
  options: BetaScheduleOptions = {},
): Float64Array {
  const n = options.numTrainTimesteps ?? 1000;
  const start = options.betaStart ?? 1e-4;
  const end = options.betaEnd ?? 0.02;
  if (!Number.isInteger(n) || n < 2)
    throw new DiffusionSamplersError(
      'betas',
      `numTrainTimesteps must be an integer >= 2, got ${n}`,
    );
  if (!(start > 0 && end > 0 && start < 1 && end < 1))
    throw new DiffusionSamplersError(
      'betas',
      `betaStart and betaEnd must lie in (0, 1), got ${start} and ${end}`,
    );
  const betas = new Float64Array(n);
  // linspace as NumPy computes it: start + i * step, the last point exact.
  const lin = (a: number, b: number, i: number): number =>
    i === n - 1 ? b : a + i * ((b - a) / (n - 1));
  switch (kind) {
    case 'linear':
      for (let i = 0; i < n; i++) betas[i] = lin(start, end, i);
      break;
    case 'scaled_linear':
      for (let i = 0; i < n; i++) betas[i] = lin(Math.sqrt(start), Math.sqrt(end), i) ** 2;
      break;
    case 'squaredcos_cap_v2': {
      const abar = (t: number): number => Math.cos(((t + 0.008) / 1.008) * (Math.PI / 2)) ** 2;
      for (let i = 0; i < n; i++) betas[i] = Math.min(1 - abar((i + 1) / n) / abar(i / n), 0.999);
      break;
    }
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const s = 1 / (1 + Math.exp(-lin(-6, 6, i)));
        betas[i] = s * (end - start) + start;
      }
      break;
    default:
      throw new DiffusionSamplersError(
        'betas',
        `unknown beta schedule '${String(kind)}'; expected linear, scaled_linear, squaredcos_cap_v2 or sigmoid`,
      );
  }
  return betas;
}

/** Cumulative products of `1 - beta` (diffusers' `alphas_cumprod`). */
export function alphasCumprod(betas: Float64Array): Float64Array {
  const out = new Float64Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= 1 - betas[i]!;
    out[i] = acc;
  }
  return out;
}
