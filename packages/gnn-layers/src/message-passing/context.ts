import type { CsrGraph } from '@plexus/graph-core';
import { segmentMean } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import type { ArcPlan, ArcTensors } from './arc-plan.js';
import type { Flow, MessageContext, SourceCopy } from './types.js';

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
  private readonly t: ArcTensors;
  private memoXI: tf.Tensor2D | undefined;
  private memoXJ: tf.Tensor2D | undefined;
  private memoEdge: tf.Tensor2D | undefined;

  constructor(
    readonly graph: CsrGraph,
    readonly flow: Flow,
    readonly x: tf.Tensor2D,
    private readonly rawEdgeAttr: tf.Tensor2D | undefined,
    readonly plan: ArcPlan,
  ) {
    this.numNodes = plan.numNodes;
    this.numArcs = plan.numArcs;
    this.source = plan.source;
    this.target = plan.target;
    this.t = plan.tensors();
  }

  get targetIds(): tf.Tensor1D {
    return this.t.target;
  }

  get sourceIds(): tf.Tensor1D {
    return this.t.source;
  }

  get xI(): tf.Tensor2D {
    this.memoXI ??= tf.gather(this.x, this.t.target);
    return this.memoXI;
  }

  get xJ(): tf.Tensor2D {
    this.memoXJ ??= tf.gather(this.x, this.t.source);
    return this.memoXJ;
  }

  get edgeAttr(): tf.Tensor2D | undefined {
    const e = this.rawEdgeAttr;
    if (e === undefined || this.plan.loopNodes.length === 0) return e;
    // Added loops carry the mean attribute of the arcs into their node (PyG's
    // fill_value='mean' in add_remaining_self_loops), 0 where there are none.
    this.memoEdge ??= tf.concat([
      e,
      tf.gather(segmentMean(e, this.t.edgeTarget, this.numNodes), this.t.loopNodes),
    ]) as tf.Tensor2D;
    return this.memoEdge;
  }

  gatherTarget<T extends tf.Tensor>(t: T): T {
    this.checkNodeTensor('gatherTarget', t);
    return tf.gather(t, this.t.target) as T;
  }

  gatherSource<T extends tf.Tensor>(t: T): T {
    this.checkNodeTensor('gatherSource', t);
    return tf.gather(t, this.t.source) as T;
  }

  copySource(weights?: tf.Tensor1D | tf.Tensor2D, features?: tf.Tensor2D): SourceCopy {
    return { kind: 'source-copy', features: features ?? this.x, weights };
  }

  private checkNodeTensor(name: string, t: tf.Tensor): void {
    if (t.rank < 1 || t.shape[0] !== this.numNodes) {
      throw new GnnLayersError(
        'message-passing',
        `${name} needs a tensor with one row per node (${this.numNodes}), got shape [${t.shape.join(', ')}]`,
      );
    }
  }
}
