import { GraphCoreError } from '../../errors.js';

/**
 * A binary hierarchy over node clusters, in merge form (as scipy's linkage):
 * clusters `0 .. numLeaves-1` are the leaves, and merge t joins clusters
 * `merges[t]` into cluster `numLeaves + t`. Top-down splits are stored the same
 * way, last split first, so cutting works identically for both directions.
 */
export interface Dendrogram {
  /** Leaf cluster of every node. */
  readonly leafOf: Int32Array;
  /** Number of leaf clusters. */
  readonly numLeaves: number;
  /** Pairs of cluster ids merged, bottom first. */
  readonly merges: readonly (readonly [number, number])[];
  /** Score of each merge: average linkage for bottom-up, split depth for top-down. */
  readonly heights: Float64Array;
}

/**
 * Flat clustering with `k` clusters: apply the first `numLeaves - k` merges
 * (needs 1 ≤ k ≤ numLeaves, or k = 0 for no nodes). Labels are renumbered by
 * first appearance.
 */
export function cutDendrogram(d: Dendrogram, k: number): Int32Array {
  const lo = d.numLeaves - d.merges.length;
  if (!Number.isInteger(k) || k < lo || k > d.numLeaves || (d.numLeaves > 0 && k < 1)) {
    throw new GraphCoreError(
      'algorithms/hierarchy',
      `k must be an integer in [${Math.max(lo, Math.min(1, d.numLeaves))}, ${d.numLeaves}], got ${k}`,
    );
  }
  const parent = Int32Array.from({ length: d.numLeaves + d.merges.length }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) x = parent[x]!;
    return x;
  };
  for (let t = 0; t < d.numLeaves - k; t++) {
    const [a, b] = d.merges[t]!;
    parent[find(a)] = d.numLeaves + t;
    parent[find(b)] = d.numLeaves + t;
  }
  const relabel = new Map<number, number>();
  return Int32Array.from(d.leafOf, (leaf) => {
    const root = find(leaf);
    let id = relabel.get(root);
    if (id === undefined) {
      id = relabel.size;
      relabel.set(root, id);
    }
    return id;
  });
}

/**
 * Adjusted Rand index of two labelings (Hubert & Arabie, "Comparing
 * partitions", 1985): 1 for identical partitions up to renaming, about 0 for
 * independent ones. Defined as 1 when both put all nodes together or apart.
 */
export function adjustedRandIndex(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) {
    throw new GraphCoreError(
      'algorithms/hierarchy',
      `labelings differ in length: ${a.length} vs ${b.length}`,
    );
  }
  const n = a.length;
  const pairs = (x: number): number => (x * (x - 1)) / 2;
  const joint = new Map<string, number>();
  const ca = new Map<number, number>();
  const cb = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const key = `${a[i]},${b[i]}`;
    joint.set(key, (joint.get(key) ?? 0) + 1);
    ca.set(a[i]!, (ca.get(a[i]!) ?? 0) + 1);
    cb.set(b[i]!, (cb.get(b[i]!) ?? 0) + 1);
  }
  let index = 0;
  for (const c of joint.values()) index += pairs(c);
  let sa = 0;
  let sb = 0;
  for (const c of ca.values()) sa += pairs(c);
  for (const c of cb.values()) sb += pairs(c);
  const total = pairs(n);
  const expected = total === 0 ? 0 : (sa * sb) / total;
  const max = (sa + sb) / 2;
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}
