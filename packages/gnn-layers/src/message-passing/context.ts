import type { CsrGraph } from '@plexus/graph-core';
import { segmentMean } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import type { ArcPlan, ArcTensors } from './arc-plan.js';
import { describe, isTensor, MODULE } from './checks.js';
import type { ArcOrder, Flow, MessageContext, SourceCopy } from './types.js';

/**
 * {@link MessageContext} over an {@link ArcPlan}: per-arc gathers happen on
 * first access and are memoised, so a message that reads only `xJ` never
 * gathers `xI`. Create and use it inside one `tf.tidy`.
 */
export class PlanContext implements MessageContext {
  readonly numNodes: number;
  readonly numArcs: number;
  readonly source: Int32Array;
  readonly target: Int32Array;
  /** Whether per-arc tensors are already in the aggregation matrix's entry order. */
  readonly inEntryOrder: boolean;
  private readonly t: ArcTensors;
  private readonly sourceTensor: tf.Tensor1D;
  private readonly targetTensor: tf.Tensor1D;
  private memoXI: tf.Tensor2D | undefined;
  private memoXJ: tf.Tensor2D | undefined;
  private memoEdge: tf.Tensor2D | undefined;

  constructor(
    readonly graph: CsrGraph,
    readonly flow: Flow,
    readonly arcOrder: ArcOrder,
    readonly x: tf.Tensor2D,
    private readonly rawEdgeAttr: tf.Tensor2D | undefined,
    readonly plan: ArcPlan,
  ) {
    this.numNodes = plan.numNodes;
    this.numArcs = plan.numArcs;
    this.t = plan.tensors();
    const sorted = arcOrder === 'target';
    this.source = sorted ? plan.sortedSource : plan.source;
    this.target = sorted ? plan.sortedTarget : plan.target;
    this.sourceTensor = sorted ? this.t.sortedSource : this.t.source;
    this.targetTensor = sorted ? this.t.sortedTarget : this.t.target;
    this.inEntryOrder = sorted || plan.identity;
  }

  get targetIds(): tf.Tensor1D {
    return this.targetTensor;
  }

  get sourceIds(): tf.Tensor1D {
    return this.sourceTensor;
  }

  get xI(): tf.Tensor2D {
    this.memoXI ??= this.perArc(this.x, this.targetTensor);
    return this.memoXI;
  }

  get xJ(): tf.Tensor2D {
    this.memoXJ ??= this.perArc(this.x, this.sourceTensor);
    return this.memoXJ;
  }

  get edgeAttr(): tf.Tensor2D | undefined {
    const e = this.rawEdgeAttr;
    if (e === undefined) return undefined;
    if (this.memoEdge === undefined) {
      // Added loops carry the mean attribute of the arcs into their node (PyG's
      // fill_value='mean' in add_remaining_self_loops), 0 where there are none.
      const all =
        this.plan.loopNodes.length === 0
          ? e
          : (tf.concat([
              e,
              tf.gather(segmentMean(e, this.t.edgeTarget, this.numNodes), this.t.loopNodes),
            ]) as tf.Tensor2D);
      this.memoEdge = this.arcOrder === 'target' ? this.toEntryOrder(all) : all;
    }
    return this.memoEdge;
  }

  gatherTarget<T extends tf.Tensor>(t: T): T {
    this.checkNodeTensor('gatherTarget', t);
    return this.perArc(t, this.targetTensor);
  }

  gatherSource<T extends tf.Tensor>(t: T): T {
    this.checkNodeTensor('gatherSource', t);
    return this.perArc(t, this.sourceTensor);
  }

  /**
   * Per-arc rows in 'graph' order permuted into the matrix's entry order. A
   * permutation's gradient is the inverse permutation, a plain gather, which
   * is cheaper than the scatter-add of tf.gather's generic gradient.
   */
  toEntryOrder<T extends tf.Tensor>(rows: T): T {
    if (this.plan.identity) return rows;
    const { perm, entryOf } = this.t;
    const f = tf.customGrad((r) => ({
      value: tf.gather(r as T, perm),
      gradFunc: (dy) => tf.gather(dy as T, entryOf),
    }));
    return f(rows) as T;
  }

  copySource(weights?: tf.Tensor1D | tf.Tensor2D, features?: tf.Tensor2D): SourceCopy {
    return { kind: 'source-copy', features: features ?? this.x, weights };
  }

  /**
   * Rows of `t` at `ids`. With no arcs, an empty slice instead: tfjs-wasm's
   * gather of a tensor without rows returns a wrong shape, and a slice keeps
   * `t` on the tape, so gradients still reach it (as zeros).
   */
  private perArc<T extends tf.Tensor>(t: T, ids: tf.Tensor1D): T {
    if (this.numArcs > 0) return tf.gather(t, ids) as T;
    return tf.slice(t, [0], [0]) as T;
  }

  private checkNodeTensor(name: string, t: tf.Tensor): void {
    if (!isTensor(t) || t.rank < 1 || t.shape[0] !== this.numNodes) {
      throw new GnnLayersError(
        MODULE,
        `${name} needs a tensor with one row per node (${this.numNodes}), got ${isTensor(t) ? `shape [${t.shape.join(', ')}]` : describe(t)}`,
      );
    }
  }
}
