import { CsrGraph } from '../csr/csr-graph.js';
import { Rng } from '../random/rng.js';
import { checkInt } from './check.js';
import type { SeedOptions } from './random-graphs.js';

/** A set of small graph-level tasks where one target node must be classified. */
export interface LongRangeTask {
  /** One graph per sample; features are dense, `labels` is -1 except at the target. */
  readonly graphs: readonly CsrGraph[];
  /** Target node of each graph (the node whose label must be predicted). */
  readonly targets: Int32Array;
  /** The class of each sample (also the target node's label). */
  readonly labels: Int32Array;
  /** Number of classes. */
  readonly numClasses: number;
}

/** Options of {@link ringTransfer}. */
export interface RingTransferOptions extends SeedOptions {
  /** Nodes per ring (the source–target distance is `floor(ringSize / 2)`). */
  readonly ringSize: number;
  /** Number of graphs. */
  readonly count: number;
  /** Number of classes (default 5, as Bodnar et al.). */
  readonly numClasses?: number;
}

/**
 * RingTransfer (Bodnar et al., "Weisfeiler and Lehman Go Cellular: CW
 * Networks", NeurIPS 2021): a cycle where node 0 is the target and the node
 * opposite it carries a one-hot class feature; the target must output that
 * class, so information must travel `floor(ringSize / 2)` hops.
 */
export function ringTransfer(options: RingTransferOptions): LongRangeTask {
  const { ringSize, count } = options;
  const numClasses = options.numClasses ?? 5;
  checkInt('ringSize', ringSize, 3);
  checkInt('count', count, 0);
  checkInt('numClasses', numClasses, 1);
  const rng = new Rng(options.seed ?? 0);
  const src = Int32Array.from({ length: ringSize }, (_, i) => i);
  const dst = Int32Array.from({ length: ringSize }, (_, i) => (i + 1) % ringSize);
  const ring = CsrGraph.fromEdges(ringSize, src, dst);
  const source = Math.floor(ringSize / 2);
  const graphs: CsrGraph[] = [];
  const labels = new Int32Array(count);
  for (let g = 0; g < count; g++) {
    const cls = rng.nextInt(numClasses);
    labels[g] = cls;
    const data = new Float32Array(ringSize * numClasses);
    data[source * numClasses + cls] = 1;
    const nodeLabels = new Int32Array(ringSize).fill(-1);
    nodeLabels[0] = cls;
    graphs.push(ring.withFeatures({ data, dim: numClasses }).withLabels(nodeLabels));
  }
  return { graphs, targets: new Int32Array(count), labels, numClasses };
}

/** Options of {@link treeNeighborsMatch}. */
export interface TreeNeighborsMatchOptions extends SeedOptions {
  /** Tree depth r (the problem radius); `2^depth` leaves and classes. */
  readonly depth: number;
  /** Number of graphs. */
  readonly count: number;
  /** Add a self loop on every node (default `true`, as the original code). */
  readonly selfLoops?: boolean;
}

/**
 * Tree-NeighborsMatch (Alon & Yahav, "On the Bottleneck of Graph Neural
 * Networks and its Practical Implications", ICLR 2021): a complete binary
 * tree of `depth` levels with arcs pointing to the root (node 0). Leaf i has
 * features `(key = i + 1, value)`, values a random permutation of
 * `1..2^depth`; the root's features are `(selectedKey, 0)`. The root's label
 * is the value of the leaf whose key matches, minus one, so `2^depth` facts
 * must be squeezed into the root: the over-squashing bottleneck grows with depth.
 */
export function treeNeighborsMatch(options: TreeNeighborsMatchOptions): LongRangeTask {
  const { depth, count } = options;
  checkInt('depth', depth, 1, 20);
  checkInt('count', count, 0);
  const rng = new Rng(options.seed ?? 0);
  const n = 2 ** (depth + 1) - 1;
  const numLeaves = 2 ** depth;
  const firstLeaf = numLeaves - 1;
  const src: number[] = [];
  const dst: number[] = [];
  for (let v = 1; v < n; v++) {
    src.push(v);
    dst.push((v - 1) >> 1);
  }
  if (options.selfLoops ?? true) {
    for (let v = 0; v < n; v++) {
      src.push(v);
      dst.push(v);
    }
  }
  const tree = CsrGraph.fromEdges(n, src, dst, { directed: true });
  const graphs: CsrGraph[] = [];
  const labels = new Int32Array(count);
  for (let g = 0; g < count; g++) {
    const values = rng.shuffle(Int32Array.from({ length: numLeaves }, (_, i) => i + 1));
    const key = 1 + rng.nextInt(numLeaves);
    const data = new Float32Array(n * 2);
    data[0] = key;
    for (let i = 0; i < numLeaves; i++) {
      data[2 * (firstLeaf + i)] = i + 1;
      data[2 * (firstLeaf + i) + 1] = values[i]!;
    }
    const cls = values[key - 1]! - 1;
    labels[g] = cls;
    const nodeLabels = new Int32Array(n).fill(-1);
    nodeLabels[0] = cls;
    graphs.push(tree.withFeatures({ data, dim: 2 }).withLabels(nodeLabels));
  }
  return { graphs, targets: new Int32Array(count), labels, numClasses: numLeaves };
}
