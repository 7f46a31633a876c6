/** Outcome of a K-core attack heuristic. */
export interface KCoreAttackResult {
  /** Deleted vertices, in the order they were chosen (after refinement, if any). */
  readonly attackSet: Int32Array;
  /** `attackSet.length / numNodes` (0 for an empty graph). */
  readonly fraction: number;
  /** Size of the K-core before the attack. */
  readonly initialCoreSize: number;
}

/** Options shared by the K-core attack heuristics. */
export interface KCoreAttackOptions {
  /** PRNG seed for tie-breaking and BP update order (default 0). */
  readonly seed?: number;
  /**
   * Drop redundant attack vertices afterwards: put back each deleted vertex
   * whose return leaves the K-core empty (default `false` for the baselines,
   * `true` for hCTGA).
   */
  readonly refine?: boolean;
}
