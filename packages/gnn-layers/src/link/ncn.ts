import { SeededRandom, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkPairs, type LinkPairs } from './pairs.js';
import type { LinkTargets, NcnStructure } from './targets.js';

/** Options of {@link createNcnPredictor}. */
export interface NcnPredictorOptions {
  /** Width of the node representations `h` (the encoder's output). */
  readonly inFeatures: number;
  /** Hidden width of the scoring MLP (default 64). */
  readonly hidden?: number;
  /** `'ncn'` (default) or `'ncnc'` (with common-neighbour completion). */
  readonly variant?: 'ncn' | 'ncnc';
  readonly seed?: number;
}

/** A link scorer over node representations; see {@link createNcnPredictor}. */
export interface NcnPredictor {
  readonly variant: 'ncn' | 'ncnc';
  readonly variables: readonly tf.Variable[];
  /**
   * Logits `[P]` of the target pairs from node representations `h` `[N, d]`,
   * with structure from `prepareLinkTargets` on the message-passing
   * graph. Intermediates are released by the caller's `tf.tidy`.
   */
  score(h: tf.Tensor2D, targets: LinkTargets): tf.Tensor1D;
  dispose(): void;
}

const MODULE = 'ncn';

function gatherRows(h: tf.Tensor2D, ids: Int32Array): tf.Tensor2D {
  return tf.gather(h, tf.tensor1d(ids, 'int32')) as tf.Tensor2D;
}

/**
 * NCN and NCNC of "Neural Common Neighbor with Completion for Link
 * Prediction" (Wang, Yang, Zhang, ICLR 2024).
 *
 * NCN scores `(i, j)` as `MLP([h_i ⊙ h_j ‖ Σ_{k ∈ N(i) ∩ N(j)} h_k])`, with
 * `MLP = Linear(2d → hidden) · ReLU · Linear(hidden → 1)`, the sum an spmm of
 * the host-built common-neighbour matrix with `h`.
 *
 * NCNC (completion, first order, what is implemented here) replaces the sum by
 * `Σ_{k ∈ N(i)∩N(j)} h_k + Σ_{k ∈ N(j)\N(i), k≠i} σ(NCN(i,k)) h_k +
 * Σ_{k ∈ N(i)\N(j), k≠j} σ(NCN(k,j)) h_k`, where the completion probabilities
 * come from the same NCN (shared MLP weights, on the observed graph) and are
 * differentiable, so gradients reach the MLP and `h` through them too. Not
 * implemented: the paper's target-link removal during training and its
 * separate MLPs per term (one MLP on the concatenation is used instead).
 */
export function createNcnPredictor(options: NcnPredictorOptions): NcnPredictor {
  const { inFeatures, hidden = 64, variant = 'ncn', seed = 0 } = options;
  if (!(Number.isInteger(inFeatures) && inFeatures > 0 && Number.isInteger(hidden) && hidden > 0)) {
    throw new GnnLayersError(
      MODULE,
      `inFeatures and hidden must be positive integers, got ${inFeatures} and ${hidden}`,
    );
  }
  const rng = new SeededRandom(seed);
  const name = uniqueName(variant);
  const w1 = glorotUniform(rng, 2 * inFeatures, hidden, `${name}_w1`);
  const b1 = zerosVariable(hidden, `${name}_b1`);
  const w2 = glorotUniform(rng, hidden, 1, `${name}_w2`);
  const b2 = zerosVariable(1, `${name}_b2`);

  const mlp = (z: tf.Tensor2D): tf.Tensor1D => {
    const a = tf.relu(tf.add(tf.matMul(z, w1 as tf.Tensor2D), b1)) as tf.Tensor2D;
    return tf.reshape(tf.add(tf.matMul(a, w2 as tf.Tensor2D), b2), [-1]) as tf.Tensor1D;
  };

  const ncn = (h: tf.Tensor2D, t: NcnStructure, cnSum?: tf.Tensor2D): tf.Tensor1D => {
    const hadamard = tf.mul(gatherRows(h, t.pairs.src), gatherRows(h, t.pairs.dst)) as tf.Tensor2D;
    const sum = cnSum ?? spmm(t.commonNeighbours, h);
    return mlp(tf.concat([hadamard, sum], 1) as tf.Tensor2D);
  };

  return {
    variant,
    variables: [w1, b1, w2, b2],
    score(h, targets) {
      if (h.rank !== 2 || h.shape[0] !== targets.numNodes || h.shape[1] !== inFeatures) {
        throw new GnnLayersError(
          MODULE,
          `h must be [${targets.numNodes}, ${inFeatures}], got [${h.shape.join(', ')}]`,
        );
      }
      if (variant === 'ncn') return ncn(h, targets);
      const c = targets.completion;
      if (c === undefined) {
        throw new GnnLayersError(MODULE, 'NCNC needs targets prepared with completion = true');
      }
      let sum = spmm(targets.commonNeighbours, h);
      for (const side of [c.fromDst, c.fromSrc]) {
        if (side.matrix.nnz === 0) continue;
        const p = tf.sigmoid(ncn(h, side.queries)) as tf.Tensor1D;
        sum = tf.add(sum, spmm(side.matrix, h, { weights: p })) as tf.Tensor2D;
      }
      return ncn(h, targets, sum);
    },
    dispose() {
      for (const v of [w1, b1, w2, b2]) v.dispose();
    },
  };
}

/**
 * The dot-product link scorer `h_i · h_j`, the plain GNN baseline of "Neural
 * Common Neighbor with Completion for Link Prediction" (Wang, Yang, Zhang,
 * ICLR 2024, the "GAE"-style rows). Returns logits `[P]`.
 */
export function dotProductScores(h: tf.Tensor2D, pairs: LinkPairs): tf.Tensor1D {
  checkPairs('dot-product', pairs, h.shape[0]);
  return tf.sum(tf.mul(gatherRows(h, pairs.src), gatherRows(h, pairs.dst)), 1) as tf.Tensor1D;
}
