import { DiffusionSamplersError } from '../errors.js';
import type { DiscreteVpSchedule } from '../schedules/discrete-vp.js';
import type { Thresholding } from './thresholding.js';

/** What the network predicts ("Progressive Distillation for Fast Sampling of Diffusion Models", 2022, introduced `v`). */
export type PredictionType = 'epsilon' | 'v' | 'sample';

/** The three ways a network can be conditioned on the noise level. */
export type ModelKind = 'vp' | 've' | 'edm';

/**
 * How a network sees noisy data, in terms of the sampler's state
 * `xbar = x0 + sigma * eps` (Karras form). Samplers work on `xbar`; a spec maps
 * it to the network's input, time argument and output convention.
 */
export interface ModelSpec {
  readonly kind: ModelKind;
  readonly predictionType: PredictionType | 'edm';
  /** Optional clipping of the predicted clean sample. */
  readonly thresholding?: Thresholding;
  /** Scale from `xbar` to the network input at `sigma`. */
  inputScale(sigma: number): number;
  /** Scale from `xbar` to the model's own data space (VP: `alpha`; VE/EDM: 1). */
  dataScale(sigma: number): number;
  /** The time argument the network expects at `sigma`. */
  timeOf(sigma: number): number;
  /** Scale of the initial noise `z ~ N(0, I)` giving `xbar` at `sigmaMax`. */
  initNoiseScale(sigmaMax: number): number;
  /**
   * Coefficients `(a, b)` with `x0 = a * xbar + b * F`, where F is the raw
   * network output.
   */
  denoisedCoefficients(sigma: number): readonly [number, number];
}

/** Settings of {@link createVpModel}. */
export interface VpModelOptions {
  schedule: DiscreteVpSchedule;
  predictionType?: PredictionType;
  thresholding?: Thresholding;
}

/**
 * A variance-preserving model (DDPM family, "Denoising Diffusion Probabilistic
 * Models", 2020): input `x = alpha * xbar` with `alpha = 1/sqrt(1+sigma^2)`,
 * time = the (fractional) training timestep of sigma.
 */
export function createVpModel(options: VpModelOptions): ModelSpec {
  const { schedule } = options;
  const predictionType = options.predictionType ?? 'epsilon';
  checkPrediction(predictionType, ['epsilon', 'v', 'sample']);
  const alpha = (s: number): number => 1 / Math.sqrt(1 + s * s);
  return {
    kind: 'vp',
    predictionType,
    ...(options.thresholding === undefined ? {} : { thresholding: options.thresholding }),
    inputScale: alpha,
    dataScale: alpha,
    timeOf: (s) => schedule.timeOf(s),
    initNoiseScale: (s) => Math.sqrt(1 + s * s),
    denoisedCoefficients(s) {
      if (predictionType === 'epsilon') return [1, -s];
      if (predictionType === 'sample') return [0, 1];
      // v = alpha*eps - sigma_vp*x0 with sigma_vp = alpha*s, x_t = alpha*xbar:
      // x0 = alpha*x_t - sigma_vp*v = alpha^2 xbar - alpha s v.
      const a = alpha(s);
      return [a * a, -a * s];
    },
  };
}

/** Settings of {@link createVeModel}. */
export interface VeModelOptions {
  predictionType?: 'epsilon' | 'sample';
  /** Time argument: sigma itself (default) or `log(sigma)/4`. */
  time?: 'sigma' | 'log-sigma';
  thresholding?: Thresholding;
}

/**
 * A variance-exploding model ("Score-Based Generative Modeling through
 * Stochastic Differential Equations", 2021): input `xbar`, unscaled.
 */
export function createVeModel(options: VeModelOptions = {}): ModelSpec {
  const predictionType = options.predictionType ?? 'epsilon';
  checkPrediction(predictionType, ['epsilon', 'sample']);
  const logTime = options.time === 'log-sigma';
  return {
    kind: 've',
    predictionType,
    ...(options.thresholding === undefined ? {} : { thresholding: options.thresholding }),
    inputScale: () => 1,
    dataScale: () => 1,
    timeOf: (s) => (logTime ? Math.log(s) / 4 : s),
    initNoiseScale: (s) => s,
    denoisedCoefficients: (s) => (predictionType === 'epsilon' ? [1, -s] : [0, 1]),
  };
}

/** Settings of {@link createEdmModel}. */
export interface EdmModelOptions {
  /** Data standard deviation (default 0.5). */
  sigmaData?: number;
  thresholding?: Thresholding;
}

/**
 * EDM preconditioning ("Elucidating the Design Space of Diffusion-Based
 * Generative Models", 2022, Table 1): input `c_in * xbar`, time
 * `c_noise = log(sigma)/4`, output `D = c_skip * xbar + c_out * F`.
 */
export function createEdmModel(options: EdmModelOptions = {}): ModelSpec {
  const sd = options.sigmaData ?? 0.5;
  if (!(sd > 0)) throw new DiffusionSamplersError('model', `sigmaData must be positive, got ${sd}`);
  return {
    kind: 'edm',
    predictionType: 'edm',
    ...(options.thresholding === undefined ? {} : { thresholding: options.thresholding }),
    inputScale: (s) => 1 / Math.sqrt(s * s + sd * sd),
    dataScale: () => 1,
    timeOf: (s) => Math.log(s) / 4,
    initNoiseScale: (s) => s,
    denoisedCoefficients(s) {
      const d = s * s + sd * sd;
      return [(sd * sd) / d, (s * sd) / Math.sqrt(d)];
    },
  };
}

function checkPrediction(value: string, allowed: readonly string[]): void {
  if (!allowed.includes(value))
    throw new DiffusionSamplersError(
      'model',
      `predictionType '${value}' is not supported here; expected one of ${allowed.join(', ')}`,
    );
}
