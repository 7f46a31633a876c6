import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { aggregationMatrix } from '../graph-operators.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from './check-input.js';
import { type LayerInput, project } from './input.js';
import type { ApplyContext, GnnLayerV1 } from './layer.js';

/** Options of {@link createSageConv}. */
export interface SageConvOptions {
  readonly seed?: number;
}

/**
 * GraphSAGE with the mean aggregator ("Inductive Representation Learning on
 * Large Graphs", Hamilton et al., 2017), in PyG's form:
 * `h'_i = W_self h_i + W_neigh mean_{j -> i} h_j + b`.
 */
export function createSageConv(
  inFeatures: number,
  outFeatures: number,
  options: SageConvOptions = {},
): GnnLayerV1 {
  checkPositive('sage', 'inFeatures', inFeatures);
  checkPositive('sage', 'outFeatures', outFeatures);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('sage');
  const wSelf = glorotUniform(rng, inFeatures, outFeatures, `${name}_self`);
  const wNeigh = glorotUniform(rng, inFeatures, outFeatures, `${name}_neigh`);
  const bias = zerosVariable(outFeatures, `${name}_b`);
  return {
    specificationVersion: 'v1',
    kind: 'sage',
    inFeatures,
    outFeatures,
    variables: [wSelf, wNeigh, bias],
    apply(graph: CsrGraph, x: LayerInput, _ctx: ApplyContext): tf.Tensor2D {
      checkLayerInput('sage', graph, x, inFeatures);
      const mean = aggregationMatrix(graph, 'mean');
      // mean(x)·W = mean(x·W): projecting first moves fewer columns through the spmm.
      const neigh = spmm(mean, project(x, wNeigh));
      return tf.add(tf.add(project(x, wSelf), neigh), bias);
    },
    dispose() {
      for (const v of [wSelf, wNeigh, bias]) v.dispose();
    },
  };
}
