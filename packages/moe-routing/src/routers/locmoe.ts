import type { LossFreeBalancer } from './loss-free-balancer.js';
import { topKRouter } from './top-k.js';
import type { RouterV1 } from './types.js';

/** Settings of {@link createLocMoERouter}. */
export interface LocMoERouterSettings {
  /** Routed experts n. */
  readonly numExperts: number;
  /** Experts per token; LocMoE routes top-1 (the default). */
  readonly k?: number;
  /** Optional loss-free balancing bias (not part of LocMoE). */
  readonly balancer?: LossFreeBalancer;
}

/**
 * LocMoE's router ("LocMoE: A Low-overhead MoE for Large Language Model
 * Training", Li et al., 2024, Eqs. 2–3): `i* = argmax softmax(G)`, gate
 * `R = softmax(G)_{i*}` (not renormalised). Feed it GrAP logits
 * (`grapGateLogits`, or `grapGateWeight` as the router weight). Locality is
 * not a selection rule here, as in the paper: it comes from training with
 * `localityLoss` beside `loadBalancingLoss`, so routing needs no token
 * hosts at run time (unlike `createLocalityAwareRouter`).
 */
export function createLocMoERouter(settings: LocMoERouterSettings): RouterV1 {
  return topKRouter('locmoe', {
    numExperts: settings.numExperts,
    k: settings.k ?? 1,
    renormalize: false,
    ...(settings.balancer ? { balancer: settings.balancer } : {}),
  });
}
