import type { CsrGraph } from '@plexus/graph-core';
import type * as tf from '@tensorflow/tfjs-core';

/**
 * Which way messages travel along a stored arc `u -> v` (PyG's `flow`):
 * `source_to_target` (default) aggregates at `v` from `u`;
 * `target_to_source` aggregates at `u` from `v`. Undirected graphs store both
 * arcs, so the two flows see the same messages (they differ only in which arc
 * row carries which edge attribute).
 */
export type Flow = 'source_to_target' | 'target_to_source';

/**
 * Order of the per-arc tensors a message function sees. `graph` (default):
 * the graph's CSR order (`edgeArcs`), then added self loops, so per-arc data
 * lines up with edge attributes as given. `target`: sorted by target, the
 * aggregation matrix's own order, which spares the spmm paths a permutation
 * of per-arc weights (e.g. attention with added self loops); edge attributes
 * are permuted into it for you (so pass per-arc inputs as `edgeAttr`, not
 * through a closure). `ctx.source` / `ctx.target` always say which arc is which.
 */
export type ArcOrder = 'graph' | 'target';

/** Built-in reductions over each node's incoming messages. */
export type AggregationName = 'sum' | 'mean' | 'max' | 'min' | 'softmax';

/**
 * A message that is a (weighted) copy of source features, `w_ij · h_j`.
 * Returned by {@link MessageContext.copySource}; `propagate` then aggregates
 * with an spmm over the arcs instead of materialising `[numArcs, F]` (PyG's
 * `message_and_aggregate` / SparseTensor path) wherever the aggregation allows.
 */
export interface SourceCopy {
  readonly kind: 'source-copy';
  /** `[numNodes, F]` rows to copy (the `x` given to `propagate` unless set). */
  readonly features: tf.Tensor2D;
  /**
   * Per-arc weights: `[numArcs]` scales whole rows; `[numArcs, H]` scales
   * each of `H` equal column blocks (attention heads) separately.
   */
  readonly weights: tf.Tensor1D | tf.Tensor2D | undefined;
}

/**
 * What a message function sees. Arcs are in the graph's own CSR order
 * (`edgeArcs`), followed by the self loops `propagate` adds when asked (one per
 * node lacking one, ascending node id), or sorted by target (see
 * {@link ArcOrder}). `i` is the aggregating node (target),
 * `j` the sending node (source). Per-arc tensors are gathered on first use,
 * inside `propagate`'s tidy, so unused ones cost nothing.
 */
export interface MessageContext {
  readonly graph: CsrGraph;
  readonly flow: Flow;
  readonly arcOrder: ArcOrder;
  readonly numNodes: number;
  /** Arcs messages travel on: `graph.numEdges` plus any added self loops. */
  readonly numArcs: number;
  /** Node features given to `propagate`, `[numNodes, F]`. */
  readonly x: tf.Tensor2D;
  /** `x` of each arc's target `i`, `[numArcs, F]` (PyG's `x_i`). */
  readonly xI: tf.Tensor2D;
  /** `x` of each arc's source `j`, `[numArcs, F]` (PyG's `x_j`). */
  readonly xJ: tf.Tensor2D;
  /** Edge attributes per arc `[numArcs, D]` in this context's arc order (added loops included), or undefined. */
  readonly edgeAttr: tf.Tensor2D | undefined;
  /** Target node of each arc (host copy; do not modify). */
  readonly target: Int32Array;
  /** Source node of each arc (host copy; do not modify). */
  readonly source: Int32Array;
  /** {@link MessageContext.target} as a cached int32 tensor (do not dispose). */
  readonly targetIds: tf.Tensor1D;
  /** {@link MessageContext.source} as a cached int32 tensor (do not dispose). */
  readonly sourceIds: tf.Tensor1D;
  /** Rows of a node tensor `[numNodes, ...]` at each arc's target: `[numArcs, ...]`. */
  gatherTarget<T extends tf.Tensor>(t: T): T;
  /** Rows of a node tensor `[numNodes, ...]` at each arc's source: `[numArcs, ...]`. */
  gatherSource<T extends tf.Tensor>(t: T): T;
  /**
   * The message `weights ⊙ features_j` without building it: see
   * {@link SourceCopy}. `features` defaults to `x`.
   */
  copySource(weights?: tf.Tensor1D | tf.Tensor2D, features?: tf.Tensor2D): SourceCopy;
}

/** A message function: `[numArcs, F]` messages, or a {@link SourceCopy} for the spmm path. */
export type MessageFn = (ctx: MessageContext) => tf.Tensor2D | SourceCopy;

/**
 * Softmax aggregation: per target, `Σ_j softmax_j(t · s_ij) ⊙ m_ij`.
 *
 * - With `scores` (GAT-style attention, "Graph Attention Networks", 2018):
 *   `s_ij` is `[numArcs]` or `[numArcs, H]`; with `H` heads the message's
 *   columns split into `H` equal blocks, each weighted by its head.
 * - Without `scores` (PyG's `SoftmaxAggregation`, "DeeperGCN: All You Need to
 *   Train Deeper GCNs", 2020): the messages are their own scores, channel by
 *   channel.
 *
 * `temperature` is a number, or a tensor (e.g. the learnable variable of
 * {@link createSoftmaxAggregation}) of shape `[]`, `[1]` or `[C]` with `C` the
 * score columns. Targets without arcs get 0.
 */
export interface SoftmaxAggregationSpec {
  readonly kind: 'softmax';
  readonly scores?: (ctx: MessageContext) => tf.Tensor1D | tf.Tensor2D;
  readonly temperature?: number | tf.Tensor;
  /** Dropout on the normalised weights (GAT's attention dropout); 0 = none. */
  readonly dropout?: number;
  /** Seed of the dropout mask. */
  readonly seed?: number;
}

/** A custom reduction of materialised messages `[numArcs, F]` to `[numNodes, F']`. */
export type AggregateFn = (messages: tf.Tensor2D, ctx: MessageContext) => tf.Tensor2D;

/** Any aggregation `propagate` accepts. */
export type Aggregation = AggregationName | SoftmaxAggregationSpec | AggregateFn;

/** Options of `propagate`. */
export interface PropagateOptions {
  /** Node features `[numNodes, F]` (float32). */
  readonly x: tf.Tensor2D;
  /**
   * Edge attributes `[graph.numEdges, D]`, one row per arc in the graph's CSR
   * order (see `edgeArcs`). Added self loops get the mean attribute of the
   * arcs into their node (0 if none), as PyG's `fill_value='mean'`.
   */
  readonly edgeAttr?: tf.Tensor2D;
  /** Message per arc; default: `ctx.copySource()`, the plain `x_j` on the spmm path. */
  readonly message?: MessageFn;
  /** Reduction at each target; default `'sum'`. */
  readonly aggregate?: Aggregation;
  /** Post-aggregation map (PyG's `update`); default: identity. */
  readonly update?: (aggregated: tf.Tensor2D, ctx: MessageContext) => tf.Tensor2D;
  /** Default `'source_to_target'`. */
  readonly flow?: Flow;
  /** Add a self loop to every node lacking one (PyG's `add_remaining_self_loops`). */
  readonly selfLoops?: boolean;
  /** Order of per-arc tensors (default `'graph'`); see {@link ArcOrder}. */
  readonly arcOrder?: ArcOrder;
}
