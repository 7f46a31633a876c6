import { loadBalancingLoss, type RouterV1, type Routing, routingStats } from '@plexus/moe-routing';
import { segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { linearCat } from './fused/linear.js';
import { swiglu } from './fused/swiglu.js';
import { gatherRows } from './ops.js';
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
    const logits = linearCat(x, [param(n.router)]);
    const routing = router.route({ logits, training, autoregressive: true });
    stats = routingStats(routing);
    const output = dropless(x, routing, (e, rows) =>
      linearCat(
        swiglu(
          linearCat(rows, [param(n.expert(e, 'w1'))]),
          linearCat(rows, [param(n.expert(e, 'w3'))]),
        ),
        [param(n.expert(e, 'w2'))],
      ),
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

/**
 * Dropless dispatch as MegaBlocks does it ("MegaBlocks: Efficient Sparse
 * Training with Mixture-of-Experts", Gale et al., 2022), the same sums as
 * `@plexus/moe-routing`'s `dispatchDropless`: assignments sorted by expert,
 * each expert runs on exactly its rows, outputs are scaled by the gates and
 * summed back per token. All rows are gathered at once by
 * {@link gatherRows} (a host copy on wasm and cpu, whose gradient is one
 * segment sum) and split into the experts' contiguous blocks: gathering
 * per expert ran one full-size segment sum per expert in the backward pass.
 */
function dropless(
  x: tf.Tensor2D,
  routing: Routing,
  expert: (e: number, rows: tf.Tensor2D) => tf.Tensor2D,
): tf.Tensor2D {
  const E = routing.numExperts;
  const A = routing.expertIndex.length;
  const counts = new Int32Array(E);
  for (const e of routing.expertIndex) counts[e]! += 1;
  const start = new Int32Array(E);
  for (let e = 1; e < E; e++) start[e] = start[e - 1]! + counts[e - 1]!;
  const perm = new Int32Array(A);
  const next = start.slice();
  for (let a = 0; a < A; a++) perm[next[routing.expertIndex[a]!]!++] = a;
  const tokens = perm.map((a) => routing.tokenIndex[a]!);
  return tf.tidy(() => {
    if (A === 0) return tf.zeros([routing.numTokens, x.shape[1]]) as tf.Tensor2D;
    const used = Array.from({ length: E }, (_, e) => e).filter((e) => counts[e]! > 0);
    // One gather of every assignment's row (one segment sum in the backward
    // pass), then each expert's contiguous block.
    const rows = gatherRows(x, tokens);
    const blocks =
      used.length === 1
        ? [rows]
        : tf.split(
            rows,
            used.map((e) => counts[e]!),
            0,
          );
    const pieces = used.map((e, i) => expert(e, blocks[i] as tf.Tensor2D));
    const ys = pieces.length === 1 ? pieces[0]! : tf.concat(pieces, 0);
    const gates = gatherRows(tf.reshape(routing.gates, [A, 1]) as tf.Tensor2D, perm);
    return combine(tf.mul(ys, gates) as tf.Tensor2D, tokens, routing.numTokens);
  });
}

/**
 * Sum each assignment's gated output into its token's row: `@plexus/tensor`'s
 * segment sum forward, and a gradient that gathers `dy` by token with
 * {@link gatherRows} (a host copy on wasm/cpu) instead of `segmentSum`'s own
 * `tf.gather`, which tfjs-backend-wasm runs one element at a time (~7 ms
 * per layer at 1,024 assignments × 128 here).
 */
function combine(values: tf.Tensor2D, tokens: Int32Array, numTokens: number): tf.Tensor2D {
  const f = tf.customGrad((v) => ({
    value: segmentSum(v as tf.Tensor2D, tokens, numTokens),
    gradFunc: (dy) => gatherRows(dy as tf.Tensor2D, tokens),
  }));
  return f(values) as tf.Tensor2D;
}
