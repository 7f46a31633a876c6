import { segmentMax, segmentMean, segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { describe, isTensor, MODULE } from './checks.js';
import type { PlanContext } from './context.js';
import { softmaxAggregate } from './softmax.js';
import { isSourceCopy, materialise, spmmCopy } from './source-copy.js';
import type { Aggregation, SourceCopy } from './types.js';

const NAMES = ['sum', 'mean', 'max', 'min', 'softmax'] as const;

/** Throws unless `aggregate` is a known name, a softmax spec or a function. */
export function checkAggregation(aggregate: unknown): asserts aggregate is Aggregation {
  if (typeof aggregate === 'function') return;
  if (typeof aggregate === 'string' && (NAMES as readonly string[]).includes(aggregate)) return;
  if (typeof aggregate === 'object' && aggregate !== null && 'kind' in aggregate) {
    if ((aggregate as { kind: unknown }).kind === 'softmax') return;
  }
  throw new GnnLayersError(
    MODULE,
    `aggregate must be one of ${NAMES.map((s) => `'${s}'`).join(', ')}, a softmax aggregation ({ kind: 'softmax' }) or a function, got ${typeof aggregate === 'string' ? `'${aggregate}'` : describe(aggregate)}`,
  );
}

/**
 * Reduce per-arc messages at each target. Sum and mean of a source copy
 * are one spmm; max/min and custom reductions materialise `[numArcs, F]`.
 * Empty neighbourhoods give 0 for every built-in reduction, as in PyG.
 */
export function aggregateMessages(
  msg: tf.Tensor2D | SourceCopy,
  aggregate: Aggregation,
  ctx: PlanContext,
): tf.Tensor2D {
  const n = ctx.numNodes;
  const ids = ctx.targetIds;
  if (typeof aggregate === 'function') {
    const out = aggregate(isSourceCopy(msg) ? materialise(msg, ctx) : msg, ctx);
    if (!isTensor(out) || out.rank !== 2 || out.shape[0] !== n) {
      throw new GnnLayersError(
        MODULE,
        `a custom aggregate must return [${n}, F] (one row per node), got ${describe(out)}`,
      );
    }
    return out as tf.Tensor2D;
  }
  if (typeof aggregate === 'object') return softmaxAggregate(msg, aggregate, ctx);
  switch (aggregate) {
    case 'sum':
      return isSourceCopy(msg) ? spmmCopy(msg, ctx) : segmentSum(msg, ids, n);
    case 'mean':
      return isSourceCopy(msg)
        ? spmmCopy(msg, ctx, ctx.plan.tensors().invCount)
        : segmentMean(msg, ids, n);
    case 'max':
      return segmentMax(isSourceCopy(msg) ? materialise(msg, ctx) : msg, ids, n);
    case 'min':
      // min = 0 - max(-m): empty segments give +0 (tf.neg would give -0).
      return tf.sub(0, segmentMax(tf.neg(isSourceCopy(msg) ? materialise(msg, ctx) : msg), ids, n));
    default:
      return softmaxAggregate(msg, { kind: 'softmax' }, ctx);
  }
}
