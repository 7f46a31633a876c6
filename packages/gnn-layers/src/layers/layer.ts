import type { CsrGraph } from '@plexus/graph-core';
import type * as tf from '@tensorflow/tfjs-core';
import type { LayerInput } from './input.js';

/** What a layer needs at call time besides the graph and the features. */
export interface ApplyContext {
  /** Training mode enables dropout. */
  readonly training: boolean;
  /** Seed source for dropout masks, so runs are reproducible. */
  readonly nextSeed: () => number;
}

/**
 * A message-passing layer: node features `[N, in]` on a graph to `[N, out]`.
 * Versioned so a v2 can live beside it.
 */
export interface GnnLayerV1 {
  readonly specificationVersion: 'v1';
  readonly kind: string;
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Trainable variables, for an optimiser. */
  readonly variables: readonly tf.Variable[];
  /** Forward pass on dense or sparse features; intermediates are released by the caller's `tf.tidy`. */
  apply(graph: CsrGraph, x: LayerInput, ctx: ApplyContext): tf.Tensor2D;
  /** Dispose the variables. */
  dispose(): void;
}
