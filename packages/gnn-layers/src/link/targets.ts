import type { CsrGraph } from '@plexus/graph-core';
import type { CsrMatrix } from '@plexus/tensor';
import { commonNeighbourMatrix, completionMatrices } from './common-neighbours.js';
import type { LinkPairs } from './pairs.js';

/** NCN's host-built structure for one set of target pairs. */
export interface NcnStructure {
  readonly pairs: LinkPairs;
  /** `[P, N]` common-neighbour matrix. */
  readonly commonNeighbours: CsrMatrix;
}

/** One completion side: candidates, and NCN structure for the queries weighing them. */
export interface NcncSide {
  readonly matrix: CsrMatrix;
  readonly queries: NcnStructure;
}

/** Host-built structure of target pairs; see {@link prepareLinkTargets}. */
export interface LinkTargets extends NcnStructure {
  readonly numNodes: number;
  /** Present when prepared for NCNC. */
  readonly completion?: { readonly fromDst: NcncSide; readonly fromSrc: NcncSide };
  /** Release the device tensors of every matrix (after the backward pass). */
  dispose(): void;
}

/**
 * Build on the host, from the message-passing `graph`, the sparse matrices
 * that NCN (and, with `completion`, NCNC) of "Neural Common Neighbor with
 * Completion for Link Prediction" (Wang, Yang, Zhang, ICLR 2024) need for
 * `pairs`. They outlive the forward pass because the backward pass uses them:
 * the caller disposes them when done.
 */
export function prepareLinkTargets(
  graph: CsrGraph,
  pairs: LinkPairs,
  completion = false,
): LinkTargets {
  const commonNeighbours = commonNeighbourMatrix(graph, pairs);
  const matrices: CsrMatrix[] = [commonNeighbours];
  let sides: LinkTargets['completion'];
  if (completion) {
    const c = completionMatrices(graph, pairs);
    const side = (s: typeof c.fromDst): NcncSide => {
      const cn = commonNeighbourMatrix(graph, s.queries);
      matrices.push(s.matrix, cn);
      return { matrix: s.matrix, queries: { pairs: s.queries, commonNeighbours: cn } };
    };
    sides = { fromDst: side(c.fromDst), fromSrc: side(c.fromSrc) };
  }
  return {
    numNodes: graph.numNodes,
    pairs,
    commonNeighbours,
    ...(sides === undefined ? {} : { completion: sides }),
    dispose() {
      for (const m of matrices) m.dispose();
    },
  };
}
