import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import type { DropOrder } from '../capacity/capacity.js';
import { applyCapacity } from '../capacity/capacity.js';
import { MoeRoutingError } from '../errors.js';
import { checkInt, checkMatrix, checkPositive } from '../internal/validate.js';
import { loadBalancingLoss, routerZLoss } from '../losses/losses.js';
import type { RoutingStats } from '../losses/stats.js';
import { routingStats } from '../losses/stats.js';
import type { RouterV1, Routing } from '../routers/types.js';
import { disposeRouting } from '../routers/types.js';
import { dispatchDropless, dispatchPadded } from './dispatch.js';
import type { ExpertActivation, ExpertParams } from './experts.js';
import { expertForward, expertsBatchedForward, initExpertParams } from './experts.js';

/** How tokens reach experts. */
export type DispatchMode = 'dropless' | 'capacity';

/** Configuration of an MoE feed-forward block. */
export interface MoEConfig {
  /** Model width D (input and output). */
  readonly modelDim: number;
  /** Hidden width of each expert MLP. */
  readonly hiddenDim: number;
  /** Expert MLP kind. */
  readonly activation: ExpertActivation;
  /** The router; `router.numExperts` experts are built. */
  readonly router: RouterV1;
  /** `dropless` (default, MegaBlocks grouping) or `capacity` (padded, with token dropping). */
  readonly dispatch?: DispatchMode;
  /** Capacity factor for `capacity` dispatch; default 1.25. */
  readonly capacityFactor?: number;
  /** Drop order for `capacity` dispatch; default `gshard`. */
  readonly dropOrder?: DropOrder;
  /** Load-balancing loss weight alpha; default 0.01. */
  readonly loadBalanceAlpha?: number;
  /** Router z-loss weight; default 0.001. */
  readonly zLossCoef?: number;
}

/** Parameters of an MoE block (plain tensors or variables). */
export interface MoEParams {
  /** Router projection `[D, routed experts]` (`[D, router.logitsWidth]` when the router sets it). */
  readonly routerWeight: tf.Tensor;
  /** Noise projection `[D, routed experts]`, for noisy top-k. */
  readonly noiseWeight?: tf.Tensor;
  /** One MLP per expert (routed, then shared). */
  readonly experts: readonly ExpertParams[];
}

/** Per-call options of {@link moeForward}. */
export interface MoEForwardOptions {
  /** Training mode (router noise, random dispatch); default true. */
  readonly training?: boolean;
  /** Token ids, for the hash router. */
  readonly tokenIds?: Int32Array;
  /** Host of each token, for the locality-aware router. */
  readonly tokenHosts?: Int32Array;
  /** Autoregressive decoding; non-causal routers refuse it. */
  readonly autoregressive?: boolean;
}

/** What {@link moeForward} returns; the caller owns the tensors. */
export interface MoEForwardResult {
  /** `[T, D]` combined expert outputs (dropped tokens give zero rows). */
  readonly output: tf.Tensor2D;
  /** Switch load-balancing loss, alpha-weighted. */
  readonly auxLoss: tf.Scalar;
  /** Router z-loss, coefficient-weighted. */
  readonly zLoss: tf.Scalar;
  /** Load, drops, balance and entropy of this step. */
  readonly stats: RoutingStats;
  /** The kept assignments (token, expert), for routing traces. */
  readonly trace: { readonly tokenIndex: Int32Array; readonly expertIndex: Int32Array };
}

/** Seeded parameters for `config` (std `1/√fan_in`; router weights scaled down so routing starts near uniform). */
export function initMoEParams(config: MoEConfig, seed: number): MoEParams {
  checkConfig(config);
  const rng = new SeededRandom(seed);
  const { modelDim, hiddenDim, activation, router } = config;
  const width = router.logitsWidth ?? router.numRoutedExperts;
  const noiseWidth = router.numRoutedExperts;
  const proj = (cols: number): tf.Tensor2D =>
    tf.tensor2d(rng.fillNormal(new Float32Array(modelDim * cols), 0, 0.1 / Math.sqrt(modelDim)), [
      modelDim,
      cols,
    ]);
  const experts = Array.from({ length: router.numExperts }, () =>
    initExpertParams(modelDim, hiddenDim, activation, rng),
  );
  return router.needsNoiseLogits
    ? { routerWeight: proj(width), noiseWeight: proj(noiseWidth), experts }
    : { routerWeight: proj(width), experts };
}

/**
 * The functional MoE feed-forward block: route `x` `[T, D]`, dispatch to the
 * experts (dropless or capacity-padded), combine, and return the output with
 * the balancing and z losses and routing statistics. Differentiable in `x`
 * and every parameter.
 */
export function moeForward(
  config: MoEConfig,
  params: MoEParams,
  x: tf.Tensor2D,
  options: MoEForwardOptions = {},
): MoEForwardResult {
  checkConfig(config);
  const { router, modelDim } = config;
  checkMatrix('moe', 'x', x, modelDim);
  const width = router.logitsWidth ?? router.numRoutedExperts;
  checkMatrix('moe', 'params.routerWeight', params.routerWeight, width, modelDim);
  if (params.experts.length !== router.numExperts) {
    throw new MoeRoutingError(
      'moe',
      `expected ${router.numExperts} experts, got ${params.experts.length}`,
    );
  }
  let stats: RoutingStats | undefined;
  let trace: MoEForwardResult['trace'] | undefined;
  const tensors = tf.tidy(() => {
    const logits = tf.matMul(x, params.routerWeight as tf.Tensor2D) as tf.Tensor2D;
    const training = options.training ?? true;
    const noiseLogits =
      router.needsNoiseLogits && training && params.noiseWeight
        ? (tf.matMul(x, params.noiseWeight as tf.Tensor2D) as tf.Tensor2D)
        : undefined;
    const routing = router.route({
      logits,
      training,
      ...(noiseLogits ? { noiseLogits } : {}),
      ...(options.tokenIds ? { tokenIds: options.tokenIds } : {}),
      ...(options.tokenHosts ? { tokenHosts: options.tokenHosts } : {}),
      ...(options.autoregressive !== undefined ? { autoregressive: options.autoregressive } : {}),
    });
    const output = combine(config, params, x, routing, (s, r) => {
      stats = s;
      trace = { tokenIndex: r.tokenIndex, expertIndex: r.expertIndex };
    });
    const auxLoss = loadBalancingLoss(routing, config.loadBalanceAlpha ?? 0.01);
    const zLoss = routerZLoss(logits, config.zLossCoef ?? 0.001);
    return { output, auxLoss, zLoss };
  });
  return { ...tensors, stats: stats!, trace: trace! };
}

function combine(
  config: MoEConfig,
  params: MoEParams,
  x: tf.Tensor2D,
  routing: Routing,
  report: (stats: RoutingStats, kept: Routing) => void,
): tf.Tensor2D {
  const { activation, modelDim } = config;
  if ((config.dispatch ?? 'dropless') === 'dropless' || !routing.tokenChoice) {
    report(routingStats(routing), routing);
    return dispatchDropless(
      x,
      routing,
      (e, rows) => expertForward(params.experts[e]!, activation, rows),
      modelDim,
    );
  }
  const capped = applyCapacity(routing, {
    capacityFactor: config.capacityFactor ?? 1.25,
    ...(config.dropOrder ? { order: config.dropOrder } : {}),
  });
  report(routingStats(routing, capped), capped.routing);
  const out = dispatchPadded(
    x,
    capped,
    (xs) => expertsBatchedForward(params.experts, activation, xs),
    modelDim,
  );
  disposeRouting(capped.routing);
  return out;
}

function checkConfig(config: MoEConfig): void {
  if (
    config === null ||
    typeof config !== 'object' ||
    !config.router ||
    config.router.specificationVersion !== 'v1'
  ) {
    throw new MoeRoutingError(
      'moe',
      'config.router must be a RouterV1 (specificationVersion "v1")',
    );
  }
  checkInt('moe', 'modelDim', config.modelDim, 1);
  checkInt('moe', 'hiddenDim', config.hiddenDim, 1);
  if (config.activation !== 'swiglu' && config.activation !== 'gelu') {
    throw new MoeRoutingError(
      'moe',
      `activation must be 'swiglu' or 'gelu', got ${String(config.activation)}`,
    );
  }
  const dispatch = config.dispatch ?? 'dropless';
  if (dispatch !== 'dropless' && dispatch !== 'capacity') {
    throw new MoeRoutingError(
      'moe',
      `dispatch must be 'dropless' or 'capacity', got ${String(dispatch)}`,
    );
  }
  if (config.capacityFactor !== undefined)
    checkPositive('moe', 'capacityFactor', config.capacityFactor);
}
