import Graph from 'graphology';
import type { AbstractGraph, Attributes, SerializedGraph } from 'graphology-types';
import { CsrGraph } from '../csr/csr-graph.js';
import { GraphCoreError } from '../errors.js';

/** Options of {@link fromGraphology}. */
export interface FromGraphologyOptions {
  /** Numeric edge attribute read as the weight (default `'weight'`); `null` = unweighted. Missing values count as 1. */
  readonly weightAttribute?: string | null;
  /** Integer node attribute read into `labels` (missing = -1); absent = no labels. */
  readonly labelAttribute?: string;
}

/** A graphology graph as CSR, with the key <-> dense id mapping. */
export interface FromGraphologyResult {
  /** The CSR graph; node i is `keys[i]`. */
  readonly graph: CsrGraph;
  /** Node key of each dense id, in graphology's node order. */
  readonly keys: string[];
  /** Dense id of each node key. */
  readonly index: Map<string, number>;
}

/**
 * Convert a graphology graph to CSR. Node ids follow graphology's node order;
 * undirected and directed graphs keep their type; a mixed graph with directed
 * edges becomes a directed CSR whose undirected edges are stored both ways.
 * Multi-edges and self loops are kept.
 */
export function fromGraphology(
  g: AbstractGraph,
  options: FromGraphologyOptions = {},
): FromGraphologyResult {
  const weightAttr = options.weightAttribute === undefined ? 'weight' : options.weightAttribute;
  const keys = g.nodes();
  const index = new Map<string, number>();
  keys.forEach((k, i) => {
    index.set(k, i);
  });
  const directed = g.type === 'directed' || (g.type === 'mixed' && g.directedSize > 0);
  const src: number[] = [];
  const dst: number[] = [];
  const w: number[] = [];
  let weighted = false;
  g.forEachEdge((edge, attr, source, target, _sa, _ta, undirected) => {
    let weight = 1;
    if (weightAttr !== null && attr[weightAttr] !== undefined) {
      weight = attr[weightAttr];
      if (typeof weight !== 'number' || Number.isNaN(weight)) {
        throw new GraphCoreError(
          'graphology',
          `edge ${edge} has a non-numeric ${weightAttr} attribute: expected a number`,
        );
      }
      weighted = true;
    }
    const u = index.get(source)!;
    const v = index.get(target)!;
    src.push(u);
    dst.push(v);
    w.push(weight);
    if (directed && undirected && u !== v) {
      src.push(v);
      dst.push(u);
      w.push(weight);
    }
  });
  let graph = CsrGraph.fromEdges(keys.length, src, dst, {
    directed,
    weights: weighted ? w : undefined,
  });
  if (options.labelAttribute !== undefined) {
    const attr = options.labelAttribute;
    const labels = Int32Array.from(keys, (k) => {
      const v = g.getNodeAttribute(k, attr);
      if (v === undefined) return -1;
      if (!Number.isInteger(v)) {
        throw new GraphCoreError(
          'graphology',
          `node ${k} has a non-integer ${attr} attribute: expected an integer label`,
        );
      }
      return v;
    });
    graph = graph.withLabels(labels);
  }
  return { graph, keys, index };
}

/** Options of {@link toGraphology}. */
export interface ToGraphologyOptions {
  /** Node key of each dense id (default `String(i)`). */
  readonly keys?: readonly string[];
  /** Edge attribute that receives the weight (default `'weight'`); only written for weighted graphs. */
  readonly weightAttribute?: string;
  /** Node attribute that receives the label, if the graph has labels. */
  readonly labelAttribute?: string;
}

/**
 * Convert CSR back to a graphology graph (`directed` or `undirected`, `multi`
 * only if needed, self loops allowed). Undirected arcs are emitted once, as
 * `(min, max)`, so graphology -> CSR -> graphology keeps every edge.
 */
export function toGraphology(graph: CsrGraph, options: ToGraphologyOptions = {}): Graph {
  const n = graph.numNodes;
  const keys = options.keys ?? Array.from({ length: n }, (_, i) => String(i));
  if (keys.length !== n) {
    throw new GraphCoreError(
      'graphology',
      `keys must have one entry per node (${n}), got ${keys.length}`,
    );
  }
  const weightAttr = options.weightAttribute ?? 'weight';
  const { indptr, indices, weights } = graph;
  let multi = false;
  for (let u = 0; u < n && !multi; u++) {
    for (let p = indptr[u]! + 1; p < indptr[u + 1]!; p++) {
      if (indices[p] === indices[p - 1]) {
        multi = true;
        break;
      }
    }
  }
  const g = new Graph({
    type: graph.directed ? 'directed' : 'undirected',
    multi,
    allowSelfLoops: true,
  });
  for (let u = 0; u < n; u++) {
    const attrs: Attributes = {};
    if (options.labelAttribute !== undefined && graph.labels !== undefined)
      attrs[options.labelAttribute] = graph.labels[u];
    g.addNode(keys[u]!, attrs);
  }
  for (let u = 0; u < n; u++) {
    for (let p = indptr[u]!; p < indptr[u + 1]!; p++) {
      const v = indices[p]!;
      if (!graph.directed && v < u) continue;
      const attrs: Attributes = weights === undefined ? {} : { [weightAttr]: weights[p] };
      g.addEdge(keys[u]!, keys[v]!, attrs);
    }
  }
  return g;
}

/** Graphology's serialisation format (`graph.export()`) of a CSR graph. */
export function toGraphologyJSON(
  graph: CsrGraph,
  options: ToGraphologyOptions = {},
): SerializedGraph {
  return toGraphology(graph, options).export();
}

/** Import graphology's serialisation format (`Graph.from(json)`) as CSR. */
export function fromGraphologyJSON(
  json: SerializedGraph,
  options: FromGraphologyOptions = {},
): FromGraphologyResult {
  let g: AbstractGraph;
  try {
    g = Graph.from(json);
  } catch (cause) {
    throw new GraphCoreError(
      'graphology',
      `not a valid graphology serialized graph: ${(cause as Error).message}`,
      {
        cause,
      },
    );
  }
  return fromGraphology(g, options);
}
