import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import type { Routing } from '../routers/types.js';

const MODULE = 'locality-loss';

/** Settings of {@link localityLoss}. */
export interface LocalityLossSettings {
  /** Host (node) of each token, length T. */
  readonly tokenHosts: Int32Array;
  /** Host of each routed expert, length E. */
  readonly expertHosts: Int32Array;
  /** Loss weight μ; default 0.01 (the paper leaves μ unstated; 0.01 matches its α). */
  readonly mu?: number;
  /**
   * Mass ε the "fully localised" target puts on remote experts, spread
   * evenly; default 0.01. Must be > 0: with ε = 0 the KL(D_c ‖ D_l) of the
   * paper is infinite whenever any probability sits on a remote expert.
   */
  readonly smoothing?: number;
}

/**
 * LocMoE's locality loss ("LocMoE: A Low-overhead MoE for Large Language
 * Model Training", Li et al., 2024, Eq. 6): `μ · KL(D_c ‖ D_l)`, the
 * divergence of the current expert-assignment distribution from the fully
 * localised one, to add beside the Switch `loadBalancingLoss` (the paper's
 * `L_task = L_aux + L_loc + L_cross`). Per host h, `D_c` is the mean router
 * probability of h's tokens (the differentiable `P_i` of the paper's Eq. 5;
 * hard counts carry no gradient) and `D_l` puts `1 − ε` evenly on h's
 * experts and ε evenly on the rest; the loss is the token-weighted mean
 * over hosts. It is smallest when each host spreads its tokens evenly over
 * its own experts, so it pulls traffic inside the host without undoing
 * balance there. Hosts with no expert contribute 0 (the paper notes
 * locality has no effect where a node holds no expert). Differentiable in
 * `routing.probs`.
 */
export function localityLoss(routing: Routing, settings: LocalityLossSettings): tf.Scalar {
  const { tokenHosts, expertHosts } = settings;
  const T = routing.numTokens;
  const E = routing.numRoutedExperts;
  if (!(tokenHosts instanceof Int32Array) || tokenHosts.length !== T) {
    throw new MoeRoutingError(
      MODULE,
      `tokenHosts must be an Int32Array with one host per token (${T}), got ${describe(tokenHosts)}`,
    );
  }
  if (!(expertHosts instanceof Int32Array) || expertHosts.length !== E) {
    throw new MoeRoutingError(
      MODULE,
      `expertHosts must be an Int32Array with one host per routed expert (${E}), got ${describe(expertHosts)}`,
    );
  }
  const mu = settings.mu ?? 0.01;
  if (!Number.isFinite(mu) || mu < 0) {
    throw new MoeRoutingError(MODULE, `mu must be a finite number >= 0, got ${mu}`);
  }
  const eps = settings.smoothing ?? 0.01;
  if (!(eps > 0 && eps < 1)) {
    throw new MoeRoutingError(MODULE, `smoothing must be a number in (0, 1), got ${eps}`);
  }
  const hosts = [...new Set(tokenHosts)];
  const H = hosts.length;
  if (T === 0) return tf.scalar(0);
  // Row h of `mix` averages host h's tokens; `target` is D_l; `weight` is T_h / T (0 without local experts).
  const mix = new Float32Array(H * T);
  const target = new Float32Array(H * E).fill(1);
  const weight = new Float32Array(H);
  hosts.forEach((h, r) => {
    let count = 0;
    for (let t = 0; t < T; t++) if (tokenHosts[t] === h) count++;
    for (let t = 0; t < T; t++) if (tokenHosts[t] === h) mix[r * T + t] = 1 / count;
    let local = 0;
    for (let e = 0; e < E; e++) if (expertHosts[e] === h) local++;
    if (local === 0) return;
    weight[r] = count / T;
    for (let e = 0; e < E; e++) {
      target[r * E + e] =
        local === E ? 1 / E : expertHosts[e] === h ? (1 - eps) / local : eps / (E - local);
    }
  });
  return tf.tidy(() => {
    const current = tf.matMul(tf.tensor2d(mix, [H, T]), routing.probs);
    // Floor only guards log(0) on underflow; softmax means are > 0 otherwise.
    const logRatio = tf.sub(
      tf.log(tf.maximum(current, 1e-30)),
      tf.log(tf.tensor2d(target, [H, E])),
    );
    const perHost = tf.sum(tf.mul(current, logRatio), 1);
    return tf.mul(mu, tf.sum(tf.mul(perHost, tf.tensor1d(weight)))) as tf.Scalar;
  });
}

function describe(a: unknown): string {
  return a instanceof Int32Array ? `length ${a.length}` : typeof a;
}
