import {
  densifyFeatures,
  isSparseFeatures,
  type NodeFeatures,
  rowNormalizeFeatures,
} from '@plexus/graph-core';
import { CsrMatrix } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from './errors.js';
import type { LayerInput } from './layers/input.js';

/** Options of {@link featuresToInput}. */
export interface FeaturesToInputOptions {
  /** Divide each row by its sum first, as GCN and GAT do on Cora (default true). */
  readonly rowNormalize?: boolean;
  /** Keep sparse features sparse (default true); dense ones are always dense. */
  readonly keepSparse?: boolean;
}

/**
 * Turn a dataset's node features into a layer input: sparse features become
 * {@link SparseRows} (a CSR matrix plus a tensor of its values), dense ones a
 * `[N, F]` tensor. The caller owns the returned tensors (see
 * {@link disposeInput}).
 */
export function featuresToInput(
  features: NodeFeatures | undefined,
  numNodes: number,
  options: FeaturesToInputOptions = {},
): LayerInput {
  if (features === undefined) {
    throw new GnnLayersError(
      'features',
      'the graph has no node features; give it features (or one-hot ids) first',
    );
  }
  const f = options.rowNormalize === false ? features : rowNormalizeFeatures(features);
  if (isSparseFeatures(f) && options.keepSparse !== false) {
    const matrix = CsrMatrix.fromArrays({
      indptr: f.indptr,
      indices: f.indices,
      values: f.values,
      numCols: f.dim,
    });
    return { kind: 'sparse-rows', matrix, values: tf.tensor1d(f.values, 'float32') };
  }
  const dense = densifyFeatures(f);
  return tf.tensor2d(dense.data, [numNodes, dense.dim]);
}

/** Release the tensors of an input made by {@link featuresToInput}. */
export function disposeInput(x: LayerInput): void {
  if ('kind' in x) {
    x.values.dispose();
    x.matrix.dispose();
  } else {
    x.dispose();
  }
}
