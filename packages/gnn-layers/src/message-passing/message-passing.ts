import type { CsrGraph } from '@plexus/graph-core';
import type * as tf from '@tensorflow/tfjs-core';
import { checkAggregation } from './aggregate.js';
import { propagate } from './propagate.js';
import type { Aggregation, ArcOrder, Flow, MessageContext, SourceCopy } from './types.js';

/** Options of a {@link MessagePassing} subclass. */
export interface MessagePassingOptions {
  /** Reduction at each target (default `'sum'`). */
  readonly aggregate?: Aggregation;
  /** Default `'source_to_target'`. */
  readonly flow?: Flow;
  /** Add a self loop to every node lacking one before passing messages. */
  readonly selfLoops?: boolean;
  /** Order of per-arc tensors (default `'graph'`). */
  readonly arcOrder?: ArcOrder;
}

/**
 * Base class in the shape of PyG's `MessagePassing` ("Fast Graph
 * Representation Learning with PyTorch Geometric", 2019): subclasses override
 * {@link MessagePassing.message} and/or {@link MessagePassing.update} and call
 * {@link MessagePassing.propagate} from their forward pass. The default
 * message is `x_j` on the spmm path, so a subclass that overrides nothing
 * computes `Σ_j x_j` (or the mean, max, ...) of its neighbours.
 */
export abstract class MessagePassing {
  readonly aggregate: Aggregation;
  readonly flow: Flow;
  readonly selfLoops: boolean;
  readonly arcOrder: ArcOrder;

  constructor(options: MessagePassingOptions = {}) {
    const aggregate = options.aggregate ?? 'sum';
    checkAggregation(aggregate);
    this.aggregate = aggregate;
    this.flow = options.flow ?? 'source_to_target';
    this.selfLoops = options.selfLoops === true;
    this.arcOrder = options.arcOrder ?? 'graph';
  }

  /** The message along each arc `j -> i`: `[numArcs, F]`, or `ctx.copySource(w)` for the spmm path. */
  protected message(ctx: MessageContext): tf.Tensor2D | SourceCopy {
    return ctx.copySource();
  }

  /** The new node state from the aggregated messages `[numNodes, F]`. */
  protected update(aggregated: tf.Tensor2D, _ctx: MessageContext): tf.Tensor2D {
    return aggregated;
  }

  /** Gather, message, aggregate and update once over `graph` (see `propagate`). */
  propagate(graph: CsrGraph, x: tf.Tensor2D, edgeAttr?: tf.Tensor2D): tf.Tensor2D {
    return propagate(graph, {
      x,
      ...(edgeAttr === undefined ? {} : { edgeAttr }),
      message: (ctx) => this.message(ctx),
      aggregate: this.aggregate,
      update: (aggregated, ctx) => this.update(aggregated, ctx),
      flow: this.flow,
      selfLoops: this.selfLoops,
      arcOrder: this.arcOrder,
    });
  }
}
