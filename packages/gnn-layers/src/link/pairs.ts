import { GnnLayersError } from '../errors.js';

/** Node pairs `(src[p], dst[p])`: the target links of link prediction. */
export interface LinkPairs {
  readonly src: Int32Array;
  readonly dst: Int32Array;
}

/**
 * Check that `pairs` has aligned ids in `[0, numNodes)`; link prediction as in
 * "Neural Common Neighbor with Completion for Link Prediction" (Wang, Yang,
 * Zhang, ICLR 2024) scores such target pairs.
 */
export function checkPairs(module: string, pairs: LinkPairs, numNodes: number): void {
  if (pairs.src.length !== pairs.dst.length) {
    throw new GnnLayersError(
      module,
      `pairs.src and pairs.dst must have the same length, got ${pairs.src.length} and ${pairs.dst.length}`,
    );
  }
  for (let p = 0; p < pairs.src.length; p++) {
    const i = pairs.src[p]!;
    const j = pairs.dst[p]!;
    if (!(i >= 0 && i < numNodes && j >= 0 && j < numNodes)) {
      throw new GnnLayersError(
        module,
        `pair ${p} (${i}, ${j}) has a node id outside [0, ${numNodes})`,
      );
    }
  }
}
