import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { aggregationMatrix } from '../graph-operators.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from './check-input.js';
import { isSparseRows, type LayerInput, project } from './input.js';
import type { ApplyContext, GnnLayerV1 } from './layer.js';

/** Options of {@link createGcnConv}. */
export interface GcnConvOptions {
  readonly bias?: boolean;
  readonly seed?: number;
}

/**
 * Graph convolution of "Semi-Supervised Classification with Graph
 * Convolutional Networks" (Kipf & Welling, 2017):
 * `H' = D^-1/2 (A + I) D^-1/2 H W + b`. The dense product runs first when it
 * shrinks the features, so the sparse product moves fewer columns.
 */
export function createGcnConv(
  inFeatures: number,
  outFeatures: number,
  options: GcnConvOptions = {},
): GnnLayerV1 {
  checkPositive('gcn', 'inFeatures', inFeatures);
  checkPositive('gcn', 'outFeatures', outFeatures);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('gcn');
  const weight = glorotUniform(rng, inFeatures, outFeatures, `${name}_w`);
  const bias = options.bias === false ? undefined : zerosVariable(outFeatures, `${name}_b`);
  return {
    specificationVersion: 'v1',
    kind: 'gcn',
    inFeatures,
    outFeatures,
    variables: bias ? [weight, bias] : [weight],
    apply(graph: CsrGraph, x: LayerInput, _ctx: ApplyContext): tf.Tensor2D {
      checkLayerInput('gcn', graph, x, inFeatures);
      const a = aggregationMatrix(graph, 'gcn');
      const h =
        outFeatures <= inFeatures || isSparseRows(x)
          ? spmm(a, project(x, weight))
          : (tf.matMul(spmm(a, x), weight as tf.Tensor2D) as tf.Tensor2D);
      return bias ? (tf.add(h, bias) as tf.Tensor2D) : h;
    },
    dispose() {
      weight.dispose();
      bias?.dispose();
    },
  };
}
