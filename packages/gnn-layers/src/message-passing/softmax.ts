import { segmentSoftmax, segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { uniqueName, variableFrom } from '../init.js';
import { describe, isTensor, MODULE } from './checks.js';
import type { PlanContext } from './context.js';
import { checkHeads, isSourceCopy, materialise, scaleBlocks, spmmCopy } from './source-copy.js';
import type { MessageContext, SoftmaxAggregationSpec, SourceCopy } from './types.js';

/** Options of {@link createSoftmaxAggregation}. */
export interface SoftmaxAggregationOptions {
  /** Initial inverse temperature `t` (default 1). */
  readonly temperature?: number;
  /** Make `t` a trainable variable (default false). */
  readonly learn?: boolean;
  /** Size of `t`: 1 (shared) or one per score column (default 1). */
  readonly channels?: number;
  /** Per-arc attention logits; default: the messages themselves (see {@link SoftmaxAggregationSpec}). */
  readonly scores?: (ctx: MessageContext) => tf.Tensor1D | tf.Tensor2D;
}

/** A softmax aggregation owning its temperature variable. */
export interface SoftmaxAggregation extends SoftmaxAggregationSpec {
  readonly temperature: tf.Variable;
  /** `[temperature]` when learnable, else empty (for an optimiser). */
  readonly variables: readonly tf.Variable[];
  dispose(): void;
}

/**
 * PyG's `SoftmaxAggregation(t, learn, channels)` from "DeeperGCN: All You
 * Need to Train Deeper GCNs" (Li et al., 2020): `Σ_j softmax_j(t · m_ij) ⊙ m_ij`
 * per channel, a soft max that a learnable `t` can move between mean (`t → 0`)
 * and max (`t → ∞`). Pass it as `propagate`'s `aggregate`; dispose it with
 * the layer that owns it.
 */
export function createSoftmaxAggregation(
  options: SoftmaxAggregationOptions = {},
): SoftmaxAggregation {
  const t0 = options.temperature ?? 1;
  const channels = options.channels ?? 1;
  if (!Number.isFinite(t0)) {
    throw new GnnLayersError(MODULE, `temperature must be a finite number, got ${t0}`);
  }
  if (!Number.isInteger(channels) || channels <= 0) {
    throw new GnnLayersError(MODULE, `channels must be a positive integer, got ${channels}`);
  }
  const learn = options.learn === true;
  const t = variableFrom(tf.fill([channels], t0), uniqueName('softmax_t'), learn);
  return {
    kind: 'softmax',
    temperature: t,
    ...(options.scores === undefined ? {} : { scores: options.scores }),
    variables: learn ? [t] : [],
    dispose() {
      t.dispose();
    },
  };
}

/** Softmax aggregation of messages (or a source copy, on the spmm path when scores are given). */
export function softmaxAggregate(
  msg: tf.Tensor2D | SourceCopy,
  spec: SoftmaxAggregationSpec,
  ctx: PlanContext,
): tf.Tensor2D {
  const n = ctx.numNodes;
  if (ctx.numArcs === 0) {
    // Nothing to normalise; skipping also avoids segment softmax over zero
    // rows, which tfjs-wasm's gather of an empty tensor breaks.
    return tf.zeros([n, isSourceCopy(msg) ? msg.features.shape[1] : msg.shape[1]]);
  }
  if (spec.scores === undefined) {
    const m = isSourceCopy(msg) ? materialise(msg, ctx) : msg;
    const alpha = normalise(temper(m, spec.temperature), spec, ctx);
    return segmentSum(tf.mul(m, alpha) as tf.Tensor2D, ctx.targetIds, n);
  }
  const s = spec.scores(ctx);
  if (
    !isTensor(s) ||
    (s.rank !== 1 && s.rank !== 2) ||
    s.dtype !== 'float32' ||
    s.shape[0] !== ctx.numArcs
  ) {
    throw new GnnLayersError(
      MODULE,
      `softmax scores must be float32 [${ctx.numArcs}] or [${ctx.numArcs}, H] (one row per arc), got ${describe(s)}`,
    );
  }
  const s2 = s.rank === 1 ? (tf.expandDims(s, 1) as tf.Tensor2D) : (s as tf.Tensor2D);
  const alpha = normalise(temper(s2, spec.temperature), spec, ctx);
  if (!isSourceCopy(msg)) {
    checkHeads(msg.shape[1], alpha.shape[1]);
    return segmentSum(scaleBlocks(msg, alpha), ctx.targetIds, n);
  }
  checkHeads(msg.features.shape[1], alpha.shape[1]);
  return spmmCopy({ ...msg, weights: combine(msg.weights, alpha) }, ctx);
}

/** Segment softmax per target, then attention dropout. */
function normalise(
  scores: tf.Tensor2D,
  spec: SoftmaxAggregationSpec,
  ctx: PlanContext,
): tf.Tensor2D {
  const alpha = segmentSoftmax(scores, ctx.targetIds, ctx.numNodes);
  const rate = spec.dropout ?? 0;
  if (!(rate >= 0 && rate < 1)) {
    throw new GnnLayersError(MODULE, `softmax dropout must be in [0, 1), got ${rate}`);
  }
  return rate > 0 ? (tf.dropout(alpha, rate, undefined, spec.seed) as tf.Tensor2D) : alpha;
}

/** `scores · t`, with `t` a number, or a tensor of shape `[]`, `[1]` or `[columns]`. */
function temper(scores: tf.Tensor2D, t: number | tf.Tensor | undefined): tf.Tensor2D {
  if (t === undefined || t === 1) return scores;
  if (typeof t === 'number') {
    if (!Number.isFinite(t))
      throw new GnnLayersError(MODULE, `softmax temperature must be finite, got ${t}`);
    return tf.mul(scores, t);
  }
  const c = scores.shape[1];
  if (!(t.size === 1 && t.rank <= 1) && !(t.rank === 1 && t.shape[0] === c)) {
    throw new GnnLayersError(
      MODULE,
      `softmax temperature must have shape [], [1] or [${c}] (one per score column), got [${t.shape.join(', ')}]`,
    );
  }
  return tf.mul(scores, t);
}

/** Copy weights times attention: both per arc, `[E]`, `[E, 1]` or `[E, H]` with matching `H`. */
function combine(
  w: tf.Tensor1D | tf.Tensor2D | undefined,
  alpha: tf.Tensor2D,
): tf.Tensor1D | tf.Tensor2D {
  if (w === undefined) return alpha;
  if (w.rank === 1) return tf.mul(alpha, tf.expandDims(w, 1));
  const hw = w.shape[1]!;
  const ha = alpha.shape[1];
  if (hw !== ha && hw !== 1 && ha !== 1) {
    throw new GnnLayersError(
      MODULE,
      `copySource weights have ${hw} heads but softmax scores have ${ha}; use the same H, or 1`,
    );
  }
  return tf.mul(w, alpha);
}
