import type { LossFreeBalancer } from './loss-free-balancer.js';
import { topKRouter } from './top-k.js';
import type { RouterV1 } from './types.js';

/** Settings of {@link createSwitchRouter}. */
export interface SwitchRouterSettings {
  /** Routed experts E. */
  readonly numExperts: number;
  /** Bias-based auxiliary-loss-free balancing (selection only). */
  readonly balancer?: LossFreeBalancer;
}

/**
 * Switch top-1 routing ("Switch Transformers: Scaling to Trillion Parameter
 * Models with Simple and Efficient Sparsity", Fedus et al., 2021): each token
 * goes to its argmax expert, scaled by that expert's softmax probability (not
 * renormalised, so the router still gets a gradient).
 */
export function createSwitchRouter(settings: SwitchRouterSettings): RouterV1 {
  return topKRouter('switch', {
    numExperts: settings.numExperts,
    k: 1,
    order: 'softmax-then-topk',
    renormalize: false,
    ...(settings.balancer ? { balancer: settings.balancer } : {}),
  });
}
