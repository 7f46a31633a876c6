import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { aggregationMatrix } from '../graph-operators.js';
import { glorotUniform, uniqueName, variableFrom, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from './check-input.js';
import { type LayerInput, project } from './input.js';
import type { ApplyContext, GnnLayerV1 } from './layer.js';

/** Options of {@link createGinConv}. */
export interface GinConvOptions {
  /** Hidden width of the two-layer MLP (default: `outFeatures`). */
  readonly hidden?: number;
  /** Learn epsilon (GIN-ε) instead of fixing it at 0 (GIN-0). */
  readonly trainEps?: boolean;
  readonly seed?: number;
}

/**
 * Graph isomorphism network layer ("How Powerful are Graph Neural Networks?",
 * Xu et al., 2019): `h'_i = MLP((1 + ε) h_i + Σ_{j -> i} h_j)` with a two-layer
 * ReLU MLP, as powerful as the 1-WL test.
 */
export function createGinConv(
  inFeatures: number,
  outFeatures: number,
  options: GinConvOptions = {},
): GnnLayerV1 {
  checkPositive('gin', 'inFeatures', inFeatures);
  checkPositive('gin', 'outFeatures', outFeatures);
  const hidden = options.hidden ?? outFeatures;
  checkPositive('gin', 'hidden', hidden);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('gin');
  const w1 = glorotUniform(rng, inFeatures, hidden, `${name}_w1`);
  const b1 = zerosVariable(hidden, `${name}_b1`);
  const w2 = glorotUniform(rng, hidden, outFeatures, `${name}_w2`);
  const b2 = zerosVariable(outFeatures, `${name}_b2`);
  const eps = variableFrom(tf.scalar(0), `${name}_eps`, options.trainEps === true);
  const variables = options.trainEps === true ? [w1, b1, w2, b2, eps] : [w1, b1, w2, b2];
  return {
    specificationVersion: 'v1',
    kind: 'gin',
    inFeatures,
    outFeatures,
    variables,
    apply(graph: CsrGraph, x: LayerInput, _ctx: ApplyContext): tf.Tensor2D {
      checkLayerInput('gin', graph, x, inFeatures);
      // The MLP's first layer is linear, so ((1+ε)x + Σx_j)·W1 = (1+ε)xW1 + Σ(xW1)_j:
      // project first, then aggregate the narrower features.
      const xw = project(x, w1);
      const agg = tf.add(tf.mul(tf.add(eps, 1), xw), spmm(aggregationMatrix(graph, 'sum'), xw));
      const h = tf.relu(tf.add(agg, b1));
      return tf.add(tf.matMul(h, w2 as tf.Tensor2D), b2) as tf.Tensor2D;
    },
    dispose() {
      for (const v of [w1, b1, w2, b2, eps]) v.dispose();
    },
  };
}
