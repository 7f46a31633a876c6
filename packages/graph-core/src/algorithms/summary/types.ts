/**
 * A lossless hierarchical graph summary in SLUGGER's model (Lee, Ko & Shin,
 * "SLUGGER: Lossless Hierarchical Summarization of Massive Graphs", ICDE
 * 2022). Supernodes `0 .. numNodes-1` are the input nodes; higher ids are
 * internal supernodes whose node set is the union of their children's
 * (`parent` links form a forest). A superedge {A, B} covers every node pair
 * {u, v} with u ∈ A, v ∈ B, u ≠ v; a self superedge {A, A} covers the pairs
 * inside A, and on a single node it is a self loop. A pair is an edge exactly
 * when (positive superedges covering it) − (negative ones covering it) = 1;
 * valid summaries keep that count in {0, 1}.
 */
export interface HierarchicalSummary {
  /** Number of input nodes (leaf supernodes). */
  readonly numNodes: number;
  /** Parent supernode of every supernode, -1 for roots (length = number of supernodes). */
  readonly parent: Int32Array;
  /** Positive superedges as flat pairs `[a0, b0, a1, b1, …]` with a ≤ b. */
  readonly positive: Int32Array;
  /** Negative superedges, same layout. */
  readonly negative: Int32Array;
}

/** Size of a summary in SLUGGER's cost: positive + negative superedges + hierarchy (parent) links. */
export function summaryCost(s: HierarchicalSummary): number {
  let h = 0;
  for (const p of s.parent) if (p !== -1) h++;
  return s.positive.length / 2 + s.negative.length / 2 + h;
}
