import { DiffusionSamplersError } from '../errors.js';
import {
  alphasCumprod,
  type BetaScheduleKind,
  type BetaScheduleOptions,
  betaSchedule,
} from './betas.js';

/**
 * A discrete variance-preserving forward process (DDPM): `x_t = sqrt(abar_t) x0 +
 * sqrt(1 - abar_t) eps`. Its noise level in the "Elucidating the Design Space
 * of Diffusion-Based Generative Models" (2022) form is
 * `sigma_t = sqrt((1 - abar_t) / abar_t)` for `xbar = x / sqrt(abar)`.
 */
export class DiscreteVpSchedule {
  /** `abar_t` for t = 0..T-1. */
  readonly alphasCumprod: Float64Array;
  /** `sigma_t` (Karras form) for t = 0..T-1, increasing. */
  readonly sigmas: Float64Array;
  private readonly logSigmas: Float64Array;

  constructor(betas: Float64Array) {
    if (betas.length < 2)
      throw new DiffusionSamplersError('schedule', `need at least 2 betas, got ${betas.length}`);
    for (let i = 0; i < betas.length; i++) {
      const b = betas[i]!;
      if (!(b > 0 && b < 1))
        throw new DiffusionSamplersError(
          'schedule',
          `betas must lie in (0, 1); betas[${i}] = ${b}`,
        );
    }
    this.alphasCumprod = alphasCumprod(betas);
    this.sigmas = this.alphasCumprod.map((a) => Math.sqrt((1 - a) / a));
    this.logSigmas = this.sigmas.map(Math.log);
  }

  /** A schedule from one of the named beta schedules. */
  static fromBetaSchedule(
    kind: BetaScheduleKind,
    options: BetaScheduleOptions = {},
  ): DiscreteVpSchedule {
    return new DiscreteVpSchedule(betaSchedule(kind, options));
  }

  /** Number of training timesteps T. */
  get numTrainTimesteps(): number {
    return this.sigmas.length;
  }

  /** Largest noise level, `sigma(T-1)`. */
  get sigmaMax(): number {
    return this.sigmas[this.sigmas.length - 1]!;
  }

  /** Smallest noise level, `sigma(0)`. */
  get sigmaMin(): number {
    return this.sigmas[0]!;
  }

  /** `sigma` at a (possibly fractional) timestep, interpolating log-sigma. */
  sigmaAt(t: number): number {
    const last = this.sigmas.length - 1;
    if (!(t >= 0 && t <= last))
      throw new DiffusionSamplersError('schedule', `timestep must lie in [0, ${last}], got ${t}`);
    const lo = Math.floor(t);
    if (lo === t) return this.sigmas[lo]!;
    const w = t - lo;
    return Math.exp((1 - w) * this.logSigmas[lo]! + w * this.logSigmas[lo + 1]!);
  }

  /**
   * The fractional timestep of a noise level (diffusers' `_sigma_to_t`:
   * linear in log-sigma between neighbouring table entries, clamped to the
   * table) so a model trained on integer t can be fed Karras grids.
   */
  timeOf(sigma: number): number {
    const ls = this.logSigmas;
    const last = ls.length - 1;
    const x = Math.log(sigma);
    if (!(x > ls[0]!)) return 0;
    if (!(x < ls[last]!)) return last;
    let lo = 0;
    let hi = last;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if (ls[mid]! <= x) lo = mid;
      else hi = mid;
    }
    if (ls[lo] === x) return lo;
    const w = (x - ls[lo]!) / (ls[hi]! - ls[lo]!);
    return lo + w;
  }
}
