import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';
import { checkInt, checkMatrix } from '../internal/validate.js';

const MODULE = 'locmoe-gate';

function checkGroups(modelDim: number, numExperts: number): void {
  checkInt(MODULE, 'numExperts', numExperts, 1);
  checkInt(MODULE, 'modelDim', modelDim, 1);
  if (modelDim % numExperts !== 0) {
    throw new MoeRoutingError(
      MODULE,
      `modelDim (${modelDim}) must be a multiple of numExperts (${numExperts}): GrAP splits the features into one equal group per expert`,
    );
  }
}

/**
 * The fixed, orthogonal gating weight `[D, E]` of LocMoE's Grouped Average
 * Pooling (GrAP) layer ("LocMoE: A Low-overhead MoE for Large Language Model
 * Training", Li et al., 2024, Eq. 4): column i is `n/d` on features
 * `[i·d/n, (i+1)·d/n)` and 0 elsewhere, so `x · W` averages each group.
 * The columns are disjoint, hence orthogonal and of equal norm, which is
 * what the paper's Lemma 2 (equal assignment probability) and its capacity
 * bound assume. Pass it as `routerWeight` to `moeForward` or
 * `expertParallelForward` and leave it out of the trainable variables.
 */
export function grapGateWeight(modelDim: number, numExperts: number): tf.Tensor2D {
  checkGroups(modelDim, numExperts);
  const group = modelDim / numExperts;
  const w = new Float32Array(modelDim * numExperts);
  for (let j = 0; j < modelDim; j++) w[j * numExperts + Math.floor(j / group)] = 1 / group;
  return tf.tensor2d(w, [modelDim, numExperts]);
}

/**
 * GrAP gate logits `[T, E]`: the mean of each of the E feature groups of
 * `x` `[T, D]` (LocMoE, 2024). Equals `x · grapGateWeight(D, E)` but costs
 * O(T·D) instead of O(T·D·E) and has no parameters; differentiable in `x`,
 * which is how LocMoE's locality and balancing losses reach the model.
 */
export function grapGateLogits(x: tf.Tensor2D, numExperts: number): tf.Tensor2D {
  checkMatrix(MODULE, 'x', x);
  const [tokens, modelDim] = x.shape;
  checkGroups(modelDim, numExperts);
  return tf.tidy(
    () => tf.mean(tf.reshape(x, [tokens, numExperts, modelDim / numExperts]), 2) as tf.Tensor2D,
  );
}
