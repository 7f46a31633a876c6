import { CsrGraph } from '@plexus/graph-core';
import { SeededRandom } from '@plexus/tensor';
import { GnnLayersError } from '../errors.js';
import type { LinkPairs } from './pairs.js';

/** Held-out positive links and as many sampled non-edges. */
export interface HeldOutLinks {
  readonly positive: LinkPairs;
  readonly negative: LinkPairs;
}

/** Result of {@link splitLinks}. */
export interface LinkSplit {
  /** The message-passing graph: training edges only (undirected), with the input's features and labels. */
  readonly graph: CsrGraph;
  /** Training edges, once each as `(u, v)` with `u < v`. */
  readonly train: LinkPairs;
  readonly valid: HeldOutLinks;
  readonly test: HeldOutLinks;
}

/** Options of {@link splitLinks}. */
export interface SplitLinksOptions {
  /** Fraction of edges held out for validation (default 0.05). */
  readonly validFraction?: number;
  /** Fraction of edges held out for testing (default 0.1). */
  readonly testFraction?: number;
  readonly seed?: number;
}

const MODULE = 'link-split';

function pairKey(u: number, v: number, n: number): number {
  return u < v ? u * n + v : v * n + u;
}

/**
 * Random node pairs `(u, v)`, `u ≠ v`, that are not edges of `graph` and not
 * in `exclude` (keys `min·n + max`, updated in place), as negatives for link
 * prediction ("Neural Common Neighbor with Completion for Link Prediction",
 * Wang, Yang, Zhang, ICLR 2024, train and evaluate against sampled non-edges).
 */
export function sampleNonEdges(
  graph: CsrGraph,
  count: number,
  rng: SeededRandom,
  exclude: Set<number> = new Set(),
): LinkPairs {
  const n = graph.numNodes;
  const maxPairs = (n * (n - 1)) / 2 - graph.numEdges / 2;
  if (count > maxPairs - exclude.size) {
    throw new GnnLayersError(MODULE, `cannot sample ${count} non-edges from ${n} nodes`);
  }
  const src = new Int32Array(count);
  const dst = new Int32Array(count);
  let filled = 0;
  while (filled < count) {
    const u = rng.int(n);
    const v = rng.int(n);
    if (u === v || graph.hasEdge(u, v) || graph.hasEdge(v, u)) continue;
    const key = pairKey(u, v, n);
    if (exclude.has(key)) continue;
    exclude.add(key);
    src[filled] = Math.min(u, v);
    dst[filled] = Math.max(u, v);
    filled++;
  }
  return { src, dst };
}

/**
 * Split the edges of an undirected graph for link prediction, as in the
 * experiments of "Neural Common Neighbor with Completion for Link Prediction"
 * (Wang, Yang, Zhang, ICLR 2024; random 85/5/10 splits on Planetoid): each
 * undirected edge (self loops and duplicate arcs dropped) is, after a seeded
 * shuffle, held out for test, validation or kept for training. Held-out edges
 * are absent from the returned message-passing graph; each held-out set comes
 * with as many seeded non-edges of the full graph (disjoint across sets).
 */
export function splitLinks(graph: CsrGraph, options: SplitLinksOptions = {}): LinkSplit {
  const { validFraction = 0.05, testFraction = 0.1, seed = 0 } = options;
  if (graph.directed) throw new GnnLayersError(MODULE, 'the graph must be undirected');
  if (!(validFraction >= 0 && testFraction >= 0 && validFraction + testFraction < 1)) {
    throw new GnnLayersError(
      MODULE,
      `fractions must be non-negative with a sum below 1, got valid ${validFraction} and test ${testFraction}`,
    );
  }
  const n = graph.numNodes;
  const seen = new Set<number>();
  const us: number[] = [];
  const vs: number[] = [];
  for (let u = 0; u < n; u++) {
    for (const v of graph.neighbours(u)) {
      if (v <= u) continue;
      const key = u * n + v;
      if (seen.has(key)) continue;
      seen.add(key);
      us.push(u);
      vs.push(v);
    }
  }
  const m = us.length;
  const order = Int32Array.from({ length: m }, (_, k) => k);
  const rng = new SeededRandom(seed);
  for (let k = m - 1; k > 0; k--) {
    const r = rng.int(k + 1);
    const t = order[k]!;
    order[k] = order[r]!;
    order[r] = t;
  }
  const numTest = Math.floor(m * testFraction);
  const numValid = Math.floor(m * validFraction);
  const take = (from: number, to: number): LinkPairs => {
    const idx = order.subarray(from, to);
    return {
      src: Int32Array.from(idx, (k) => us[k]!),
      dst: Int32Array.from(idx, (k) => vs[k]!),
    };
  };
  const testPos = take(0, numTest);
  const validPos = take(numTest, numTest + numValid);
  const train = take(numTest + numValid, m);
  const mp = CsrGraph.fromEdges(n, train.src, train.dst, { directed: false })
    .withFeatures(graph.features)
    .withLabels(graph.labels);
  const exclude = new Set<number>();
  const testNeg = sampleNonEdges(graph, numTest, rng, exclude);
  const validNeg = sampleNonEdges(graph, numValid, rng, exclude);
  return {
    graph: mp,
    train,
    valid: { positive: validPos, negative: validNeg },
    test: { positive: testPos, negative: testNeg },
  };
}
