import { spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { describe, isTensor, MODULE } from './checks.js';
import type { PlanContext } from './context.js';
import type { SourceCopy } from './types.js';

/** True when a message function returned a {@link SourceCopy}. */
export function isSourceCopy(m: unknown): m is SourceCopy {
  return typeof m === 'object' && m !== null && (m as SourceCopy).kind === 'source-copy';
}

/**
 * `values ⊙ w` per arc: `w` `[E]` scales rows, `[E, H]` scales `H` equal
 * column blocks (heads) of `values` `[E, F]` each by its own column.
 */
export function scaleBlocks(values: tf.Tensor2D, w: tf.Tensor1D | tf.Tensor2D): tf.Tensor2D {
  if (w.rank === 1) return tf.mul(values, tf.expandDims(w, 1));
  const [e, f] = values.shape;
  const h = w.shape[1]!;
  if (h === 1) return tf.mul(values, w);
  checkHeads(f, h);
  return tf.reshape(tf.mul(tf.reshape(values, [e, h, f / h]), tf.expandDims(w, 2)), [
    e,
    f,
  ]) as tf.Tensor2D;
}

/** The copy as a `[numArcs, F]` message tensor (for reductions without an spmm form). */
export function materialise(copy: SourceCopy, ctx: PlanContext): tf.Tensor2D {
  const rows = copy.features === ctx.x ? ctx.xJ : ctx.gatherSource(copy.features);
  return copy.weights === undefined ? rows : scaleBlocks(rows, copy.weights);
}

/**
 * `Σ_{arcs j -> i} w_ij ⊙ h_j` as one spmm per weight column, never building
 * `[numArcs, F]`; `rowScale` (per matrix entry, e.g. `1 / in-degree` for the
 * mean) multiplies the weights.
 */
export function spmmCopy(copy: SourceCopy, ctx: PlanContext, rowScale?: tf.Tensor1D): tf.Tensor2D {
  const { plan } = ctx;
  const a = plan.matrix;
  let w: tf.Tensor1D | tf.Tensor2D | undefined = copy.weights;
  if (w !== undefined && !ctx.inEntryOrder) w = ctx.toEntryOrder(w);
  if (rowScale !== undefined) {
    if (w === undefined)
      return spmm(a, copy.features, { weights: rowScale, weightsRequireGrad: false });
    w = (w.rank === 1 ? tf.mul(w, rowScale) : tf.mul(w, tf.expandDims(rowScale, 1))) as
      | tf.Tensor1D
      | tf.Tensor2D;
  }
  if (w === undefined) return spmm(a, copy.features);
  if (w.rank === 1) return spmm(a, copy.features, { weights: w as tf.Tensor1D });
  const [n, f] = copy.features.shape;
  const h = w.shape[1]!;
  if (h === 1) return spmm(a, copy.features, { weights: tf.reshape(w, [-1]) as tf.Tensor1D });
  checkHeads(f, h);
  const c = f / h;
  const perHead: tf.Tensor2D[] = [];
  for (let k = 0; k < h; k++) {
    perHead.push(
      spmm(a, tf.slice(copy.features, [0, k * c], [n, c]), {
        weights: tf.reshape(tf.slice(w, [0, k], [-1, 1]), [-1]) as tf.Tensor1D,
      }),
    );
  }
  return tf.concat(perHead, 1);
}

/** Throws unless a copy's features are `[numNodes, F]` and its weights `[numArcs]` / `[numArcs, H]`. */
export function checkSourceCopy(copy: SourceCopy, ctx: PlanContext): void {
  const f = copy.features;
  if (!isTensor(f) || f.rank !== 2 || f.dtype !== 'float32' || f.shape[0] !== ctx.numNodes) {
    throw new GnnLayersError(
      MODULE,
      `copySource features must be a float32 [${ctx.numNodes}, F] (numNodes, F) tensor, got ${describe(f)}`,
    );
  }
  const w = copy.weights;
  if (w === undefined) return;
  if (
    !isTensor(w) ||
    (w.rank !== 1 && w.rank !== 2) ||
    w.dtype !== 'float32' ||
    w.shape[0] !== ctx.numArcs
  ) {
    throw new GnnLayersError(
      MODULE,
      `copySource weights must be float32 [${ctx.numArcs}] or [${ctx.numArcs}, H] (one row per arc), got ${describe(w)}`,
    );
  }
  if (w.rank === 2) checkHeads(f.shape[1], w.shape[1]!);
}

/** Throws unless `h` weight columns split `f` feature columns into equal blocks. */
export function checkHeads(f: number, h: number): void {
  if (h < 1 || f % h !== 0) {
    throw new GnnLayersError(
      MODULE,
      `${h} weight columns (heads) must divide the ${f} message columns into equal blocks`,
    );
  }
}
