import { MoeRoutingError } from '../errors.js';
import { checkInt } from '../internal/validate.js';
import { erfc, regularizedIncompleteBeta } from './min-capacity-math.js';

const MODULE = 'min-capacity';

/** Input of {@link expertCapacityLowerBound}. */
export interface CapacityBoundSettings {
  /**
   * δ in [0, 1): the cosine of the largest angle between a token and the
   * gating weight of the expert it is routed to (`gateAngleDelta`). The
   * paper measured δ ≈ 0.03 on PanGu-Σ.
   */
  readonly delta: number;
  /** Activation size d (the gate's input width). */
  readonly modelDim: number;
  /** Routed experts n. */
  readonly numExperts: number;
}

/** The bound of {@link expertCapacityLowerBound} and its approximations. */
export interface CapacityBound {
  /** `p_δ = 1 − I_{δ²}(1/2, (d−1)/2)`: probability a uniform unit token has |cos| >= δ to a gate (Lemma 3). */
  readonly pDelta: number;
  /** `ec_min = 1 / (n · p_δ)` (Theorem 1), in tokens per expert. */
  readonly ecMin: number;
  /** The large-d form `1 / (n · erfc(√(δ²d / (2 − δ²))))`. */
  readonly ecMinLargeD: number;
  /** The exponential form `exp(δ²d / (2 − δ²)) / n`, below `ecMinLargeD`. */
  readonly ecMinExp: number;
  /** `max(1, ceil(ecMin))`: the smallest whole capacity the bound allows (pass as `applyCapacity`'s `capacity`). */
  readonly capacity: number;
}

/**
 * LocMoE's lower bound on expert capacity ("LocMoE: A Low-overhead MoE for
 * Large Language Model Training", Li et al., 2024, Lemma 3 and Theorem 1,
 * after pMoE, Chowdhury et al., 2023). With orthogonal, equal-norm gating
 * weights (GrAP) and tokens uniform on the unit sphere, a token is
 * class-discriminative for expert i when `cos(token, ω_i) >= δ`, which
 * happens with probability `p_δ`; an expert needs at least
 * `ec_min = 1 / (n · p_δ)` tokens to see one such token. The bound grows
 * exponentially as δ·√d grows (smaller angles), and is at most a few tokens
 * when δ·√d is small: the paper uses it to cut capacity without losing
 * accuracy. Assumptions (equal gate norms, uniform tokens) are the paper's.
 */
export function expertCapacityLowerBound(settings: CapacityBoundSettings): CapacityBound {
  const { delta, modelDim: d, numExperts: n } = settings;
  if (!Number.isFinite(delta) || delta < 0 || delta >= 1) {
    throw new MoeRoutingError(MODULE, `delta must be a number in [0, 1), got ${delta}`);
  }
  checkInt(MODULE, 'modelDim', d, 2);
  checkInt(MODULE, 'numExperts', n, 1);
  const d2 = delta * delta;
  const pDelta = 1 - regularizedIncompleteBeta(d2, 0.5, (d - 1) / 2);
  const z = (d2 * d) / (2 - d2);
  const ecMin = 1 / (n * pDelta);
  return {
    pDelta,
    ecMin,
    ecMinLargeD: 1 / (n * erfc(Math.sqrt(z))),
    ecMinExp: Math.exp(z) / n,
    capacity: Math.max(1, Math.ceil(ecMin - 1e-9)),
  };
}
