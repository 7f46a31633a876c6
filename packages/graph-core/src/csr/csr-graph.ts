import { CsrMatrix } from '@plexus/tensor';
import { GraphCoreError } from '../errors.js';
import { batchGraphs, type CsrGraphBatch } from './batch.js';
import { buildCsrFromEdges, type FromEdgesOptions, validateCsrAdjacency } from './build.js';
import { type NodeFeatures, selectFeatureRows, validateFeatures } from './features.js';
import { kHopNodes } from './k-hop.js';
import {
  addSelfLoopsCsr,
  inducedCsr,
  rowScale,
  rowSums,
  symmetricScale,
  transposeCsr,
} from './ops.js';
import type {
  CsrGraphFromArraysOptions,
  CsrGraphInit,
  DegreeDirection,
  KHopNeighbourhood,
  Subgraph,
} from './types.js';

export type {
  CsrGraphFromArraysOptions,
  CsrGraphInit,
  DegreeDirection,
  KHopNeighbourhood,
  Subgraph,
} from './types.js';

/**
 * An immutable graph in compressed-sparse-row form: node `u`'s neighbours are
 * `indices[indptr[u] .. indptr[u+1])`, sorted ascending, with optional
 * `weights` aligned to `indices`. Undirected graphs store each edge in both
 * directions (a self loop once), so kernels can stream rows without caring
 * about direction. Features and labels travel beside the structure. Methods
 * never mutate; they return new graphs (sharing arrays where unchanged).
 */
export class CsrGraph {
  /** Number of nodes. */
  readonly numNodes: number;
  /** Number of stored arcs (`2 × edges` for undirected graphs without self loops). */
  readonly numEdges: number;
  /** Row pointer, length `numNodes + 1`. */
  readonly indptr: Int32Array;
  /** Neighbour id of each stored arc, sorted within each row. */
  readonly indices: Int32Array;
  /** Weight of each stored arc, or `undefined` for an unweighted graph. */
  readonly weights: Float32Array | undefined;
  /** Whether arcs are one-way. */
  readonly directed: boolean;
  /** Node features, if any. */
  readonly features: NodeFeatures | undefined;
  /** Node labels, if any (`-1` = unlabelled). */
  readonly labels: Int32Array | undefined;

  private constructor(init: CsrGraphInit) {
    this.indptr = init.indptr;
    this.indices = init.indices;
    this.weights = init.weights;
    this.directed = init.directed;
    this.features = init.features;
    this.labels = init.labels;
    this.numNodes = init.indptr.length - 1;
    this.numEdges = init.indices.length;
  }

  /**
   * Wrap existing CSR arrays without copying (they must not change afterwards).
   * Validates sorted rows, ranges, features and labels unless told not to.
   */
  static fromArrays(init: CsrGraphInit, options: CsrGraphFromArraysOptions = {}): CsrGraph {
    if (options.validate !== false) {
      const n = init.indptr.length - 1;
      validateCsrAdjacency(n, init.indptr, init.indices, init.weights);
      if (init.features !== undefined) validateFeatures(init.features, n);
      if (init.labels !== undefined && init.labels.length !== n) {
        throw new GraphCoreError(
          'csr',
          `labels must have one entry per node (${n}), got ${init.labels.length}`,
        );
      }
    }
    return new CsrGraph(init);
  }

  /**
   * Build from an edge list (COO) in O(n + m): rows come out sorted; undirected
   * graphs (the default) get both arcs per edge; multi-edges are kept unless
   * `dedupe` is set; self loops are kept unless `selfLoops: 'drop'`.
   */
  static fromEdges(
    numNodes: number,
    src: ArrayLike<number>,
    dst: ArrayLike<number>,
    options: FromEdgesOptions = {},
  ): CsrGraph {
    const built = buildCsrFromEdges(numNodes, src, dst, options);
    return new CsrGraph({ ...built, directed: options.directed ?? false });
  }

  /** A graph with `numNodes` nodes and no edges. */
  static empty(numNodes: number, directed = false): CsrGraph {
    return CsrGraph.fromEdges(numNodes, [], [], { directed });
  }

  /** Block-diagonal union of `graphs` with `graphIndex` per node (mini-batching). */
  static batch(graphs: readonly CsrGraph[]): CsrGraphBatch {
    const b = batchGraphs(graphs);
    return { graph: new CsrGraph(b.init), graphIndex: b.graphIndex, nodeOffsets: b.nodeOffsets };
  }

  /** Neighbours of `u` (a view, not a copy). */
  neighbours(u: number): Int32Array {
    this.checkNode(u);
    return this.indices.subarray(this.indptr[u]!, this.indptr[u + 1]!);
  }

  /** Weights of `u`'s arcs aligned with {@link CsrGraph.neighbours}; ones if unweighted. */
  neighbourWeights(u: number): Float32Array {
    this.checkNode(u);
    const a = this.indptr[u]!;
    const b = this.indptr[u + 1]!;
    return this.weights === undefined
      ? new Float32Array(b - a).fill(1)
      : this.weights.subarray(a, b);
  }

  /** Whether arc `u -> v` is stored (binary search in `u`'s sorted row). */
  hasEdge(u: number, v: number): boolean {
    this.checkNode(u);
    let lo = this.indptr[u]!;
    let hi = this.indptr[u + 1]! - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const x = this.indices[mid]!;
      if (x === v) return true;
      if (x < v) lo = mid + 1;
      else hi = mid - 1;
    }
    return false;
  }

  /** Number of arcs leaving (`'out'`, default) or entering (`'in'`) each node; a self loop counts once. */
  degree(direction: DegreeDirection = 'out'): Int32Array {
    const n = this.numNodes;
    const d = new Int32Array(n);
    if (direction === 'out' || !this.directed) {
      for (let u = 0; u < n; u++) d[u] = this.indptr[u + 1]! - this.indptr[u]!;
    } else {
      for (let p = 0; p < this.numEdges; p++) d[this.indices[p]!]!++;
    }
    return d;
  }

  /** Sum of arc weights leaving (`'out'`) or entering (`'in'`) each node. */
  weightedDegree(direction: DegreeDirection = 'out'): Float64Array {
    if (direction === 'out' || !this.directed)
      return rowSums(this.numNodes, this.indptr, this.weights);
    const d = new Float64Array(this.numNodes);
    for (let p = 0; p < this.numEdges; p++)
      d[this.indices[p]!]! += this.weights === undefined ? 1 : this.weights[p]!;
    return d;
  }

  /** The reversed graph (`u -> v` becomes `v -> u`); undirected graphs return themselves. */
  transpose(): CsrGraph {
    if (!this.directed) return this;
    const t = transposeCsr(this.numNodes, this.indptr, this.indices, this.weights);
    return this.derive(t);
  }

  /**
   * Add a self loop of `weight` to every node lacking one (existing loops keep
   * their weight, as PyG's `add_remaining_self_loops`), so it is idempotent.
   */
  addSelfLoops(weight = 1): CsrGraph {
    return this.derive(
      addSelfLoopsCsr(this.numNodes, this.indptr, this.indices, this.weights, weight, false),
    );
  }

  /**
   * GCN propagation weights (Kipf & Welling, "Semi-Supervised Classification
   * with Graph Convolutional Networks", ICLR 2017): `D^-1/2 (A + I) D^-1/2`,
   * where `D` is the weighted row sum of `A + I`. Self loops are added where
   * missing (existing ones kept); for directed graphs `D` is the out-degree.
   */
  gcnNormalize(): CsrGraph {
    const a = addSelfLoopsCsr(this.numNodes, this.indptr, this.indices, this.weights, 1, true);
    const d = rowSums(this.numNodes, a.indptr, a.weights);
    const w = symmetricScale(this.numNodes, a.indptr, a.indices, a.weights, d);
    return this.derive({ indptr: a.indptr, indices: a.indices, weights: w });
  }

  /** Random-walk normalisation `D^-1 A`: each row's weights sum to 1 (empty rows stay empty). */
  rowNormalize(): CsrGraph {
    const d = rowSums(this.numNodes, this.indptr, this.weights);
    const w = rowScale(this.numNodes, this.indptr, this.weights, d);
    return this.derive({ indptr: this.indptr, indices: this.indices, weights: w });
  }

  /** The same structure with new arc weights (one per stored arc), or none. */
  withWeights(weights: Float32Array | undefined): CsrGraph {
    if (weights !== undefined && weights.length !== this.numEdges) {
      throw new GraphCoreError(
        'csr',
        `weights must have one entry per stored arc (${this.numEdges}), got ${weights.length}`,
      );
    }
    return this.derive({ indptr: this.indptr, indices: this.indices, weights });
  }

  /** The same graph with these node features (validated) or none. */
  withFeatures(features: NodeFeatures | undefined): CsrGraph {
    if (features !== undefined) validateFeatures(features, this.numNodes);
    return new CsrGraph({ ...this.init(), features });
  }

  /** The same graph with these node labels or none. */
  withLabels(labels: Int32Array | undefined): CsrGraph {
    if (labels !== undefined && labels.length !== this.numNodes) {
      throw new GraphCoreError(
        'csr',
        `labels must have one entry per node (${this.numNodes}), got ${labels.length}`,
      );
    }
    return new CsrGraph({ ...this.init(), labels });
  }

  /**
   * The subgraph induced by `nodes` (distinct ids; subgraph node `i` is
   * `nodes[i]`), with features and labels carried along.
   */
  inducedSubgraph(nodes: ArrayLike<number>): Subgraph {
    const ids = Int32Array.from(nodes as ArrayLike<number>);
    const seen = new Uint8Array(this.numNodes);
    for (let i = 0; i < ids.length; i++) {
      const u = ids[i]!;
      if (!(u >= 0 && u < this.numNodes) || nodes[i] !== u) {
        throw new GraphCoreError(
          'csr',
          `subgraph node ${nodes[i]} at position ${i} is not a node id in [0, ${this.numNodes})`,
        );
      }
      if (seen[u] === 1) throw new GraphCoreError('csr', `subgraph node ${u} is listed twice`);
      seen[u] = 1;
    }
    const sub = inducedCsr(this.numNodes, this.indptr, this.indices, this.weights, ids);
    const graph = new CsrGraph({
      ...sub,
      directed: this.directed,
      features: this.features === undefined ? undefined : selectFeatureRows(this.features, ids),
      labels: this.labels === undefined ? undefined : Int32Array.from(ids, (u) => this.labels![u]!),
    });
    return { graph, nodes: ids };
  }

  /**
   * Nodes within `k` hops of any seed (following arcs forward), as an induced
   * subgraph ordered by discovery (seeds first), with each node's hop count.
   */
  kHopNeighbourhood(seeds: ArrayLike<number>, k: number): KHopNeighbourhood {
    if (!Number.isInteger(k) || k < 0)
      throw new GraphCoreError('csr', `k must be a non-negative integer, got ${k}`);
    for (let i = 0; i < seeds.length; i++) this.checkNode(seeds[i]!);
    const { nodes, hops } = kHopNodes(this.numNodes, this.indptr, this.indices, seeds, k);
    const sub = this.inducedSubgraph(nodes);
    return { graph: sub.graph, nodes: sub.nodes, hops };
  }

  /**
   * This graph's adjacency as an `@plexus/tensor` {@link CsrMatrix}
   * (`numNodes × numNodes`, values = weights or absent for all ones) for
   * `spmm`, sharing this graph's arrays without copying or re-validating.
   */
  toCsrMatrix(): CsrMatrix {
    return CsrMatrix.fromArrays(
      { indptr: this.indptr, indices: this.indices, values: this.weights, numCols: this.numNodes },
      { copy: false, validate: false },
    );
  }

  /** COO arcs `(src[i], dst[i])` in row order, with weights if any. */
  toEdges(): { src: Int32Array; dst: Int32Array; weights: Float32Array | undefined } {
    const src = new Int32Array(this.numEdges);
    for (let u = 0; u < this.numNodes; u++) src.fill(u, this.indptr[u]!, this.indptr[u + 1]!);
    return { src, dst: this.indices.slice(), weights: this.weights?.slice() };
  }

  /** The plain arrays of this graph (no copies). */
  init(): CsrGraphInit {
    return {
      indptr: this.indptr,
      indices: this.indices,
      weights: this.weights,
      directed: this.directed,
      features: this.features,
      labels: this.labels,
    };
  }

  private derive(adj: {
    indptr: Int32Array;
    indices: Int32Array;
    weights: Float32Array | undefined;
  }): CsrGraph {
    return new CsrGraph({
      ...adj,
      directed: this.directed,
      features: this.features,
      labels: this.labels,
    });
  }

  private checkNode(u: number): void {
    if (!Number.isInteger(u) || u < 0 || u >= this.numNodes) {
      throw new GraphCoreError('csr', `node id ${u} is out of range [0, ${this.numNodes})`);
    }
  }
}
