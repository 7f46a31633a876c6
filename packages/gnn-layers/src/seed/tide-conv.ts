import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { aggregationMatrix } from '../graph-operators.js';
import { glorotUniform, uniqueName, variableFrom, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from '../layers/check-input.js';
import { type LayerInput, project } from '../layers/input.js';
import type { ApplyContext, GnnLayerV1 } from '../layers/layer.js';
import { heatChebyshevCoefficients } from './bessel.js';
import { chebyshevFilter } from './heat-kernel.js';

/** Options of {@link createTideConv}. */
export interface TideConvOptions {
  /** Diffusion channels `C` (default `outFeatures`); each has its own time. */
  readonly channels?: number;
  /** Chebyshev order `K` = sparse products per call (default 16). */
  readonly order?: number;
  /**
   * Upper bound of every diffusion time (default `order`). Times are
   * `maxTime · sigmoid(θ)`, so they stay where the truncated expansion is
   * accurate: its error is about `erfc(K / sqrt(2 t))`.
   */
  readonly maxTime?: number;
  /**
   * Initial diffusion time of every channel; default: spread log-uniformly
   * over `[0.1, 0.8 · maxTime]`, so training starts with near and far channels.
   */
  readonly initialTime?: number;
  readonly bias?: boolean;
  readonly seed?: number;
}

/** A TIDE layer; `diffusionTimes()` reads the learnt per-channel times. */
export interface TideConv extends GnnLayerV1 {
  readonly channels: number;
  readonly order: number;
  readonly maxTime: number;
  /** Current diffusion time of each channel (host copy). */
  diffusionTimes(): Float32Array;
}

const TIME_FLOOR = 1e-6;

function logit(p: number): number {
  return Math.log(p / (1 - p));
}

/**
 * TIDE, "Time Derivative Diffusion for Deep Learning on Graphs" (Behmanesh,
 * Krahn & Ovsjanikov, ICML 2023). Features are projected to `C` channels,
 * `Z = X W_in`, and each channel is diffused on the graph heat kernel for its
 * own learnable time, `H = exp(-t_c L) Z` with `L = I - Â` and
 * `Â = D^-1/2 (A + I) D^-1/2`; the time derivative `∂H/∂t = -L H` (one more
 * sparse product) adds a local, Laplacian-shaped term the pure diffusion
 * lacks. The output is `[H ‖ ∂H/∂t] W_out + b`. Since `H + ∂H/∂t = Â H`,
 * this spans `Â exp(-tL) Z W`, which at `t = 0` is a GCN layer: as in the
 * paper, the layer strictly generalises local message passing. A small time keeps a channel
 * local, a large one reaches across the graph, and the gradient with respect
 * to `t_c` lets training choose, so one layer covers near and far.
 *
 * The heat kernel's action is a Chebyshev expansion with scaled Bessel
 * coefficients `e^{-t} I_k(t)` (see `heatChebyshevCoefficients`): `order`
 * spmm calls and no dense matrix, and unlike a Taylor series it does not
 * cancel catastrophically in float32 for large `t`.
 */
export function createTideConv(
  inFeatures: number,
  outFeatures: number,
  options: TideConvOptions = {},
): TideConv {
  checkPositive('tide', 'inFeatures', inFeatures);
  checkPositive('tide', 'outFeatures', outFeatures);
  const channels = options.channels ?? outFeatures;
  const order = options.order ?? 16;
  checkPositive('tide', 'channels', channels);
  checkPositive('tide', 'order', order);
  const maxTime = options.maxTime ?? order;
  if (!(maxTime > 0 && Number.isFinite(maxTime)))
    throw new GnnLayersError('tide', `maxTime must be a positive number, got ${maxTime}`);
  const init = options.initialTime;
  if (init !== undefined && !(init > 0 && init < maxTime))
    throw new GnnLayersError('tide', `initialTime must be in (0, ${maxTime}), got ${init}`);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('tide');
  const wIn = glorotUniform(rng, inFeatures, channels, `${name}_w_in`);
  const wOut = glorotUniform(rng, 2 * channels, outFeatures, `${name}_w_out`);
  const lo = Math.min(0.1, maxTime / 2);
  const hi = 0.8 * maxTime;
  const t0 = Float32Array.from({ length: channels }, (_, c) =>
    init !== undefined
      ? init
      : channels === 1
        ? Math.sqrt(lo * hi)
        : lo * (hi / lo) ** (c / (channels - 1)),
  );
  const theta = variableFrom(tf.tensor1d(t0.map((t) => logit(t / maxTime))), `${name}_time_logit`);
  const bias = options.bias === false ? undefined : zerosVariable(outFeatures, `${name}_b`);
  const variables = bias ? [wIn, theta, wOut, bias] : [wIn, theta, wOut];
  const times = (): tf.Tensor1D =>
    tf.maximum(tf.mul(tf.sigmoid(theta), maxTime), TIME_FLOOR) as tf.Tensor1D;
  return {
    specificationVersion: 'v1',
    kind: 'tide',
    inFeatures,
    outFeatures,
    channels,
    order,
    maxTime,
    variables,
    apply(graph: CsrGraph, x: LayerInput, _ctx: ApplyContext): tf.Tensor2D {
      checkLayerInput('tide', graph, x, inFeatures);
      const a = aggregationMatrix(graph, 'gcn');
      const z = project(x, wIn);
      const coeffs = heatChebyshevCoefficients(times(), order, maxTime);
      const h = chebyshevFilter(a, z, coeffs);
      // ∂/∂t exp(-tL) Z = -L exp(-tL) Z = Â H - H.
      const dh = tf.sub(spmm(a, h), h);
      const out = tf.matMul(tf.concat([h, dh], 1), wOut as tf.Tensor2D);
      return (bias ? tf.add(out, bias) : out) as tf.Tensor2D;
    },
    diffusionTimes(): Float32Array {
      return tf.tidy(() => times().dataSync() as Float32Array);
    },
    dispose() {
      for (const v of variables) v.dispose();
    },
  };
}
