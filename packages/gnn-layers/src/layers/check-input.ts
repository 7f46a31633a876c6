import type { CsrGraph } from '@plexus/graph-core';
import { GnnLayersError } from '../errors.js';
import { inputShape, isSparseRows, type LayerInput } from './input.js';

/** Throws unless `x` is `[graph.numNodes, inFeatures]` float32 (dense or sparse rows). */
export function checkLayerInput(
  kind: string,
  graph: CsrGraph,
  x: LayerInput,
  inFeatures: number,
): void {
  if (!isSparseRows(x) && (x.rank !== 2 || x.dtype !== 'float32')) {
    throw new GnnLayersError(
      kind,
      `features must be a float32 [numNodes, ${inFeatures}] tensor, got ${x.dtype} [${x.shape.join(', ')}]`,
    );
  }
  const shape = inputShape(x);
  if (shape[0] !== graph.numNodes || shape[1] !== inFeatures) {
    throw new GnnLayersError(
      kind,
      `features must be [${graph.numNodes}, ${inFeatures}] (numNodes, inFeatures), got [${shape.join(', ')}]`,
    );
  }
}

/** Throws unless `n` is a positive integer. */
export function checkPositive(kind: string, name: string, n: number): void {
  if (!Number.isInteger(n) || n <= 0)
    throw new GnnLayersError(kind, `${name} must be a positive integer, got ${n}`);
}
