import {
  dispatchDropless,
  loadBalancingLoss,
  type RouterV1,
  routingStats,
} from '@plexus/moe-routing';
import * as tf from '@tensorflow/tfjs-core';
import { linear, silu } from './ops.js';
import { layerNames } from './params.js';

/** One MoE layer's output and host statistics. */
export interface MoEBlockResult {
  readonly output: tf.Tensor2D;
  /** Switch load-balancing loss, `alpha`-weighted. */
  readonly auxLoss: tf.Scalar;
  /** Assignments per expert. */
  readonly load: Float64Array;
  readonly coefficientOfVariation: number;
  readonly entropy: number;
}

/**
 * Mixtral's sparse MoE block ("Mixtral of Experts", Jiang et al., 2024) on
 * `@plexus/moe-routing`: router logits `x·gateᵀ`, the package's top-k router
 * (softmax over all experts, keep the top k, renormalise), its MegaBlocks
 * dropless dispatch, its Switch load-balancing loss and routing statistics.
 * The experts are SwiGLU `w2(silu(w1 x) ⊙ w3 x)` evaluated on the Hugging
 * Face `[out, in]` weights directly (the package's own expert takes
 * `[in, out]` weights, which would mean transposing every expert each step).
 */
export function moeBlock(
  x: tf.Tensor2D,
  layer: number,
  param: (name: string) => tf.Tensor,
  router: RouterV1,
  alpha: number,
  training: boolean,
): MoEBlockResult {
  const n = layerNames(layer);
  let stats: ReturnType<typeof routingStats> | undefined;
  const out = tf.tidy(() => {
    const logits = linear(x, param(n.router));
    const routing = router.route({ logits, training, autoregressive: true });
    stats = routingStats(routing);
    const output = dispatchDropless(
      x,
      routing,
      (e, rows) =>
        linear(
          tf.mul(
            silu(linear(rows, param(n.expert(e, 'w1')))),
            linear(rows, param(n.expert(e, 'w3'))),
          ) as tf.Tensor2D,
          param(n.expert(e, 'w2')),
        ),
      x.shape[1],
    );
    const auxLoss = loadBalancingLoss(routing, alpha);
    return { output, auxLoss };
  });
  return {
    ...out,
    load: stats!.requestedLoad,
    coefficientOfVariation: stats!.coefficientOfVariation,
    entropy: stats!.entropy,
  };
}
