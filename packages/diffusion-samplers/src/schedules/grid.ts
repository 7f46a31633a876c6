import { DiffusionSamplersError } from '../errors.js';
import type { DiscreteVpSchedule } from './discrete-vp.js';
import { validateCount, validateSigmas } from './validate.js';

/**
 * The noise levels a sampler visits: `sigmas` has N+1 strictly decreasing
 * entries (Karras form, `xbar = x / alpha`), usually ending in 0. When the grid
 * comes from a discrete schedule, `timesteps[i]` is the model time of
 * `sigmas[i]` for i < N, so models trained on integer t see integers.
 */
export interface SamplingGrid {
  readonly sigmas: Float64Array;
  readonly timesteps?: Float64Array;
}

/** diffusers' `timestep_spacing` choices. */
export type TimestepSpacing = 'leading' | 'trailing' | 'linspace';

/** What a grid built from a schedule ends with. */
export type FinalSigma = 'zero' | 'min';

/** NumPy's `round` (half to even), so integer grids match diffusers exactly. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * N integer timesteps, descending, spaced as diffusers does ("Common Diffusion
 * Noise Schedules and Sample Steps are Flawed", 2024, Table 2 compares them):
 * `leading` = k*floor(T/N) + offset, `trailing` = round(T - k*T/N) - 1,
 * `linspace` = round(linspace(0, T-1, N)).
 */
export function timestepSpacing(
  numTrainTimesteps: number,
  steps: number,
  spacing: TimestepSpacing,
  stepsOffset = 0,
): Float64Array {
  validateCount(steps, 'number of steps');
  if (steps > numTrainTimesteps)
    throw new DiffusionSamplersError(
      'grid',
      `number of steps (${steps}) must not exceed the training timesteps (${numTrainTimesteps})`,
    );
  const T = numTrainTimesteps;
  const out = new Float64Array(steps);
  switch (spacing) {
    case 'leading': {
      const ratio = Math.floor(T / steps);
      for (let k = 0; k < steps; k++) out[steps - 1 - k] = k * ratio + stepsOffset;
      break;
    }
    case 'trailing': {
      const step = -T / steps;
      for (let k = 0; k < steps; k++) out[k] = roundHalfEven(T + k * step) - 1;
      break;
    }
    case 'linspace': {
      const step = (T - 1) / (steps - 1 || 1);
      for (let k = 0; k < steps; k++) {
        const v = k === steps - 1 && steps > 1 ? T - 1 : k * step;
        out[steps - 1 - k] = roundHalfEven(v);
      }
      break;
    }
    default:
      throw new DiffusionSamplersError(
        'grid',
        `unknown timestep spacing '${String(spacing)}'; expected leading, trailing or linspace`,
      );
  }
  for (const t of out)
    if (t < 0 || t > T - 1)
      throw new DiffusionSamplersError('grid', `timestep ${t} falls outside [0, ${T - 1}]`);
  return out;
}

/**
 * N noise levels from `sigmaMax` to `sigmaMin`, evenly spaced in `sigma^(1/rho)`
 * ("Elucidating the Design Space of Diffusion-Based Generative Models", 2022,
 * eq. 5; rho = 7).
 */
export function karrasSigmas(
  steps: number,
  sigmaMin: number,
  sigmaMax: number,
  rho = 7,
): Float64Array {
  validateCount(steps, 'number of steps');
  checkRange(sigmaMin, sigmaMax);
  const lo = sigmaMin ** (1 / rho);
  const hi = sigmaMax ** (1 / rho);
  const out = new Float64Array(steps);
  for (let i = 0; i < steps; i++) {
    const ramp = steps === 1 ? 0 : i === steps - 1 ? 1 : i * (1 / (steps - 1));
    out[i] = (hi + ramp * (lo - hi)) ** rho;
  }
  return out;
}

/** N noise levels geometrically spaced from `sigmaMax` to `sigmaMin` (the VE schedule of "Score-Based Generative Modeling through Stochastic Differential Equations", 2021). */
export function exponentialSigmas(steps: number, sigmaMin: number, sigmaMax: number): Float64Array {
  validateCount(steps, 'number of steps');
  checkRange(sigmaMin, sigmaMax);
  const out = new Float64Array(steps);
  const a = Math.log(sigmaMax);
  const b = Math.log(sigmaMin);
  for (let i = 0; i < steps; i++)
    out[i] = Math.exp(steps === 1 ? a : a + ((b - a) * i) / (steps - 1));
  return out;
}

function checkRange(sigmaMin: number, sigmaMax: number): void {
  if (!(sigmaMin > 0 && sigmaMax > sigmaMin && Number.isFinite(sigmaMax)))
    throw new DiffusionSamplersError(
      'grid',
      `need 0 < sigmaMin < sigmaMax < Infinity, got sigmaMin = ${sigmaMin}, sigmaMax = ${sigmaMax}`,
    );
}

/** Settings of {@link vpGrid}. */
export interface VpGridOptions {
  /** Timestep spacing, or a sigma spacing (`karras`, `exponential`) between the schedule's extremes. */
  spacing: TimestepSpacing | 'karras' | 'exponential';
  /**
   * End at sigma 0 (`zero`, diffusers' default `final_sigmas_type`) or at the
   * schedule's smallest sigma (`min`). With `min`, sigma spacings still give N
   * steps; a timestep spacing whose last timestep is already 0 gives N - 1.
   */
  final?: FinalSigma;
  /** `steps_offset` for `leading` spacing. */
  stepsOffset?: number;
  /** Karras rho (default 7). */
  rho?: number;
}

/** A sampling grid of N steps on a discrete VP schedule. */
export function vpGrid(
  schedule: DiscreteVpSchedule,
  steps: number,
  options: VpGridOptions,
): SamplingGrid {
  const final = options.final ?? 'zero';
  let sigmas: Float64Array;
  let timesteps: Float64Array;
  if (options.spacing === 'karras' || options.spacing === 'exponential') {
    // Ending at sigma_min, the N steps need N + 1 points between the extremes.
    const points = final === 'zero' ? steps : steps + 1;
    sigmas =
      options.spacing === 'karras'
        ? karrasSigmas(points, schedule.sigmaMin, schedule.sigmaMax, options.rho ?? 7)
        : exponentialSigmas(points, schedule.sigmaMin, schedule.sigmaMax);
    timesteps = sigmas.map((s) => schedule.timeOf(s));
  } else {
    timesteps = timestepSpacing(
      schedule.numTrainTimesteps,
      steps,
      options.spacing,
      options.stepsOffset ?? 0,
    );
    sigmas = timesteps.map((t) => schedule.sigmaAt(t));
  }
  return withFinal(sigmas, final === 'zero' ? 0 : schedule.sigmaMin, timesteps);
}

/** A grid from explicit sigmas (validated); append `final` if it is given. */
export function sigmaGrid(sigmas: ArrayLike<number>, final?: number): SamplingGrid {
  const base = Float64Array.from(sigmas);
  const grid = final === undefined ? { sigmas: base } : withFinal(base, final);
  validateSigmas(grid.sigmas);
  return grid;
}

function withFinal(sigmas: Float64Array, final: number, timesteps?: Float64Array): SamplingGrid {
  const last = sigmas[sigmas.length - 1]!;
  // 'min' on a grid that already ends at sigma_min (up to pow() round-off)
  // must not repeat it.
  const same = Math.abs(last - final) <= 1e-12 * Math.max(final, 1e-300);
  const all = same
    ? Float64Array.from([...sigmas.slice(0, -1), final])
    : Float64Array.from([...sigmas, final]);
  validateSigmas(all);
  return timesteps === undefined ? { sigmas: all } : { sigmas: all, timesteps };
}
