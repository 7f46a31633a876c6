import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';

/** Training interactions `(users[k], items[k])`: the user–item graph whose degrees define β. */
export interface Interactions {
  readonly users: Int32Array;
  readonly items: Int32Array;
}

/**
 * One batch of the UltraGCN constraint loss (Mao et al., 2021): positive
 * pairs `(users[b], positives[b])` and `k = negatives.length / users.length`
 * sampled negative items per pair, row-major (`negatives[b * k + t]`).
 */
export interface UltraGcnBatch {
  readonly users: Int32Array;
  readonly positives: Int32Array;
  readonly negatives: Int32Array;
}

/** Options of {@link ultraGcnConstraintLoss}. */
export interface UltraGcnLossOptions {
  /** Weight of the negative term relative to the positive one (the official code's `negative_weight`; default 1). */
  readonly negativeWeight?: number;
}

const MODULE = 'ultragcn-loss';

function degrees(ids: Int32Array, size: number, what: string): Float64Array {
  const d = new Float64Array(size);
  for (const id of ids) {
    if (!(id >= 0 && id < size))
      throw new GnnLayersError(MODULE, `${what} id ${id} is out of range [0, ${size})`);
    d[id]!++;
  }
  return d;
}

function checkIds(ids: Int32Array, size: number, what: string): void {
  for (const id of ids)
    if (!(id >= 0 && id < size))
      throw new GnnLayersError(MODULE, `${what} id ${id} is out of range [0, ${size})`);
}

/**
 * The constraint weights of UltraGCN ("UltraGCN: Ultra Simplification of
 * Graph Convolutional Networks for Recommendation", Mao et al., CIKM 2021):
 * `β_{u,i} = (1/d_u) · sqrt((d_u + 1) / (d_i + 1))`, the limit of
 * infinitely many LightGCN-style propagation steps on the user–item graph,
 * with degrees counted in `interactions`. `items` holds
 * `items.length / users.length` items per user, row-major; returns one β per item.
 */
export function ultraGcnBeta(
  interactions: Interactions,
  numUsers: number,
  numItems: number,
  users: Int32Array,
  items: Int32Array,
): Float32Array {
  if (interactions.users.length !== interactions.items.length) {
    throw new GnnLayersError(
      MODULE,
      `interactions.users and interactions.items must have the same length, got ${interactions.users.length} and ${interactions.items.length}`,
    );
  }
  const du = degrees(interactions.users, numUsers, 'interaction user');
  const di = degrees(interactions.items, numItems, 'interaction item');
  if (users.length === 0 || items.length % users.length !== 0) {
    throw new GnnLayersError(
      MODULE,
      `items must hold k items per user ([${users.length} * k]), got ${items.length}`,
    );
  }
  checkIds(users, numUsers, 'user');
  checkIds(items, numItems, 'item');
  const beta = new Float32Array(items.length);
  const perUser = items.length / users.length;
  for (let k = 0; k < items.length; k++) {
    const u = users[Math.floor(k / perUser)]!;
    const d = du[u]!;
    // β divides by d_u: a user with no training interactions has no constraint to weigh.
    if (d === 0)
      throw new GnnLayersError(MODULE, `user ${u} has no interactions, so β (1/d_u) is undefined`);
    beta[k] = Math.sqrt((d + 1) / (di[items[k]!]! + 1)) / d;
  }
  return beta;
}

/**
 * UltraGCN's β-weighted user–item constraint loss with negative sampling
 * ("UltraGCN: Ultra Simplification of Graph Convolutional Networks for
 * Recommendation", Mao et al., 2021, the constraint loss L_C), reduced as the official code
 * does (sum over pairs, mean over each pair's negatives):
 *
 * `L_C = Σ_b [ β_{u,i} · -log σ(e_u·e_i) + w · mean_t β_{u,j_t} · -log σ(-e_u·e_{j_t}) ]`
 *
 * `userEmbeddings` is `[numUsers, d]`, `itemEmbeddings` `[numItems, d]`;
 * degrees come from `interactions`. Differentiable in both embeddings.
 */
export function ultraGcnConstraintLoss(
  userEmbeddings: tf.Tensor2D,
  itemEmbeddings: tf.Tensor2D,
  interactions: Interactions,
  batch: UltraGcnBatch,
  options: UltraGcnLossOptions = {},
): tf.Scalar {
  if (
    userEmbeddings.rank !== 2 ||
    itemEmbeddings.rank !== 2 ||
    userEmbeddings.shape[1] !== itemEmbeddings.shape[1]
  ) {
    throw new GnnLayersError(
      MODULE,
      `embeddings must be [numUsers, d] and [numItems, d], got [${userEmbeddings.shape.join(', ')}] and [${itemEmbeddings.shape.join(', ')}]`,
    );
  }
  const b = batch.users.length;
  if (b === 0 || batch.positives.length !== b || batch.negatives.length % b !== 0) {
    throw new GnnLayersError(
      MODULE,
      `batch must have users [B], positives [B] and negatives [B * k] with B > 0, got ${b}, ${batch.positives.length}, ${batch.negatives.length}`,
    );
  }
  const k = batch.negatives.length / b;
  const [numUsers, numItems] = [userEmbeddings.shape[0], itemEmbeddings.shape[0]];
  const betaPos = ultraGcnBeta(interactions, numUsers, numItems, batch.users, batch.positives);
  const betaNeg = ultraGcnBeta(interactions, numUsers, numItems, batch.users, batch.negatives);
  const w = options.negativeWeight ?? 1;
  return tf.tidy(() => {
    const eu = tf.gather(userEmbeddings, tf.tensor1d(batch.users, 'int32'));
    const ei = tf.gather(itemEmbeddings, tf.tensor1d(batch.positives, 'int32'));
    const posScore = tf.sum(tf.mul(eu, ei), 1);
    // -log σ(s) = softplus(-s), stable for large |s|.
    const pos = tf.sum(tf.mul(tf.tensor1d(betaPos), tf.softplus(tf.neg(posScore))));
    if (k === 0) return pos as tf.Scalar;
    const ej = tf.reshape(tf.gather(itemEmbeddings, tf.tensor1d(batch.negatives, 'int32')), [
      b,
      k,
      -1,
    ]);
    const negScore = tf.sum(tf.mul(tf.expandDims(eu, 1), ej), 2);
    const negTerms = tf.mul(tf.tensor2d(betaNeg, [b, k]), tf.softplus(negScore));
    return tf.add(pos, tf.mul(w, tf.sum(tf.mean(negTerms, 1)))) as tf.Scalar;
  });
}
