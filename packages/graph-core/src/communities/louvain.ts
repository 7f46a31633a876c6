import louvainImpl from 'graphology-communities-louvain';
import type { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';
import { toGraphology } from '../graphology/bridge.js';
import { Rng } from '../random/rng.js';
import { modularity } from './modularity.js';

/** Options of {@link louvainCommunities}. */
export interface LouvainOptions {
  /** Resolution γ (default 1). */
  readonly resolution?: number;
  /** Seed of the node visiting order (default 0). */
  readonly seed?: number;
}

/** Communities found by {@link louvainCommunities}. */
export interface LouvainResult {
  /** Community id of each node, `0..count-1`. */
  readonly community: Int32Array;
  readonly count: number;
  /** Modularity of the partition (computed on the CSR graph). */
  readonly modularity: number;
}

/**
 * Louvain community detection ("Fast unfolding of communities in large
 * networks", Blondel et al., 2008) through graphology's standard library
 * (`graphology-communities-louvain`), seeded, on an undirected CsrGraph.
 */
export function louvainCommunities(graph: CsrGraph, options: LouvainOptions = {}): LouvainResult {
  if (graph.directed) throw new GraphCoreError('louvain', 'the graph must be undirected');
  const resolution = options.resolution ?? 1;
  if (!(resolution > 0))
    throw new GraphCoreError('louvain', `resolution must be > 0, got ${resolution}`);
  const rng = new Rng(options.seed ?? 0);
  const g = toGraphology(graph);
  const mapping = louvainImpl(g, {
    resolution,
    rng: () => rng.next(),
    getEdgeWeight: graph.weights === undefined ? null : 'weight',
  });
  const community = new Int32Array(graph.numNodes);
  const relabel = new Map<number, number>();
  for (let u = 0; u < graph.numNodes; u++) {
    const raw = mapping[String(u)]!;
    let id = relabel.get(raw);
    if (id === undefined) {
      id = relabel.size;
      relabel.set(raw, id);
    }
    community[u] = id;
  }
  return { community, count: relabel.size, modularity: modularity(graph, community, resolution) };
}
