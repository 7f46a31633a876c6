import { featuresToInput, type LayerInput } from '@plexus/gnn-layers';
import {
  type CsrGraph,
  laplacianPE,
  randomFeaturePropagation,
  randomWalkPE,
} from '@plexus/graph-core';
import * as tf from '@tensorflow/tfjs-core';

/** Positional encodings `plexus-train gnn --pe` can append to the node features. */
export const POSITIONAL_ENCODINGS = ['none', 'lap', 'rwpe', 'rfp'] as const;
/** One of {@link POSITIONAL_ENCODINGS}. */
export type PositionalEncodingName = (typeof POSITIONAL_ENCODINGS)[number];

/**
 * The encoding as a row-major `numNodes × width` array: Laplacian eigenvectors
 * (`lap`, k = dim, canonical signs), random-walk landing probabilities (`rwpe`,
 * dim steps), or Random Feature Propagation (`rfp`, Eliasof et al. 2023: dim
 * random channels and 4 propagation steps, so width 5·dim).
 */
export function positionalEncoding(
  graph: CsrGraph,
  kind: Exclude<PositionalEncodingName, 'none'>,
  dim: number,
  seed: number,
): { data: Float32Array; width: number } {
  if (kind === 'lap') return { data: laplacianPE(graph, dim, { seed }).pe, width: dim };
  if (kind === 'rwpe') return { data: randomWalkPE(graph, dim), width: dim };
  return {
    data: randomFeaturePropagation(graph, { channels: dim, steps: 4, seed }),
    width: 5 * dim,
  };
}

/**
 * Node features with a positional encoding appended as extra dense columns
 * (the features are row-normalised first, as without an encoding).
 */
export function featuresWithEncoding(
  graph: CsrGraph,
  kind: PositionalEncodingName,
  dim: number,
  seed: number,
): { input: LayerInput; width: number } {
  if (kind === 'none') {
    const input = featuresToInput(graph.features, graph.numNodes);
    return { input, width: 'kind' in input ? input.matrix.numCols : input.shape[1] };
  }
  const pe = positionalEncoding(graph, kind, dim, seed);
  const base = featuresToInput(graph.features, graph.numNodes, {
    keepSparse: false,
  }) as tf.Tensor2D;
  const input = tf.tidy(() =>
    tf.concat([base, tf.tensor2d(pe.data, [graph.numNodes, pe.width])], 1),
  ) as tf.Tensor2D;
  base.dispose();
  return { input, width: input.shape[1] };
}
