import type { CsrGraph } from '@plexus/graph-core';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { aggregateMessages, checkAggregation } from './aggregate.js';
import { arcPlan } from './arc-plan.js';
import { checkRows, describe, MODULE } from './checks.js';
import { PlanContext } from './context.js';
import { checkSourceCopy, isSourceCopy } from './source-copy.js';
import type { ArcOrder, MessageContext, PropagateOptions, SourceCopy } from './types.js';

const defaultMessage = (ctx: MessageContext): SourceCopy => ctx.copySource();

/**
 * One round of message passing, after PyG's `MessagePassing.propagate`
 * ("Fast Graph Representation Learning with PyTorch Geometric", Fey & Lenssen,
 * 2019, following the neural message passing framework of Gilmer et al.,
 * "Neural Message Passing for Quantum Chemistry", 2017):
 * `h'_i = update(aggregate_{j -> i} message(x_i, x_j, e_ji))`.
 *
 * Messages are per arc, in the graph's CSR order or sorted by target (see
 * {@link ArcOrder}); a message that is a (weighted) copy of `x_j` (`ctx.copySource(w)`, also the
 * default) is summed, averaged or attention-weighted by an spmm, without a
 * `[numArcs, F]` tensor. Block-diagonal batches (`CsrGraph.batch`) need
 * nothing special: arcs never cross graphs. Differentiable in `x`, edge
 * attributes and whatever the callbacks close over; intermediates are
 * released before returning.
 */
export function propagate(graph: CsrGraph, options: PropagateOptions): tf.Tensor2D {
  if (typeof graph !== 'object' || graph === null || !(graph.indptr instanceof Int32Array)) {
    throw new GnnLayersError(
      MODULE,
      `graph must be a CsrGraph from @plexus/graph-core, got ${describe(graph)}`,
    );
  }
  const flow = options.flow ?? 'source_to_target';
  if (flow !== 'source_to_target' && flow !== 'target_to_source') {
    throw new GnnLayersError(
      MODULE,
      `flow must be 'source_to_target' or 'target_to_source', got ${typeof flow === 'string' ? `'${flow}'` : describe(flow)}`,
    );
  }
  const arcOrder = options.arcOrder ?? 'graph';
  if (arcOrder !== 'graph' && arcOrder !== 'target') {
    throw new GnnLayersError(
      MODULE,
      `arcOrder must be 'graph' or 'target', got ${typeof arcOrder === 'string' ? `'${arcOrder}'` : describe(arcOrder)}`,
    );
  }
  const aggregate = options.aggregate ?? 'sum';
  checkAggregation(aggregate);
  checkRows(options.x, graph.numNodes, 'x', 'numNodes');
  if (options.edgeAttr !== undefined) {
    checkRows(options.edgeAttr, graph.numEdges, 'edgeAttr', 'numArcs in CSR order');
  }
  const plan = arcPlan(graph, flow, options.selfLoops === true);
  return tf.tidy(() => {
    const ctx = new PlanContext(graph, flow, arcOrder, options.x, options.edgeAttr, plan);
    const msg = (options.message ?? defaultMessage)(ctx);
    if (isSourceCopy(msg)) checkSourceCopy(msg, ctx);
    else checkRows(msg, ctx.numArcs, 'message output', 'numArcs');
    const aggregated = aggregateMessages(msg, aggregate, ctx);
    return options.update === undefined ? aggregated : options.update(aggregated, ctx);
  });
}
