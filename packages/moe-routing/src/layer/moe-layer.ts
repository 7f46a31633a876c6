import * as tf from '@tensorflow/tfjs-core';
import { traceFromAssignments } from '../analysis/trace.js';
import { expertTensors } from './experts.js';
import type { MoEConfig, MoEForwardOptions, MoEForwardResult, MoEParams } from './moe.js';
import { initMoEParams, moeForward } from './moe.js';

/**
 * An MoE feed-forward block holding its parameters as trainable
 * `tf.Variable`s: `apply` is {@link moeForward} on them. Add `auxLoss` and
 * `zLoss` to the model loss when training.
 */
export class MoELayer {
  /** The configuration the layer was built with. */
  readonly config: MoEConfig;
  /** The layer parameters (variables). */
  readonly params: MoEParams;
  /**
   * With `recordTrace`, the experts of every token seen by `apply`, in
   * order: the routing trace the offloading analysis reads.
   */
  readonly trace: number[][] = [];
  private readonly recordTrace: boolean;

  constructor(
    config: MoEConfig,
    options: { seed: number; params?: MoEParams; recordTrace?: boolean },
  ) {
    this.config = config;
    this.recordTrace = options.recordTrace ?? false;
    const init = options.params ?? initMoEParams(config, options.seed);
    const v = (t: tf.Tensor): tf.Variable => tf.variable(t, true);
    this.params = {
      routerWeight: v(init.routerWeight),
      ...(init.noiseWeight ? { noiseWeight: v(init.noiseWeight) } : {}),
      experts: init.experts.map((p) => ({
        w1: v(p.w1),
        w2: v(p.w2),
        ...(p.w3 ? { w3: v(p.w3) } : {}),
        ...(p.b1 ? { b1: v(p.b1) } : {}),
        ...(p.b2 ? { b2: v(p.b2) } : {}),
      })),
    };
    // Variables copy their initial value; free the init tensors we created.
    if (!options.params) disposeParams(init);
  }

  /** Forward pass; see {@link moeForward}. */
  apply(x: tf.Tensor2D, options: MoEForwardOptions = {}): MoEForwardResult {
    const result = moeForward(this.config, this.params, x, options);
    if (this.recordTrace) {
      this.trace.push(
        ...traceFromAssignments(result.trace.tokenIndex, result.trace.expertIndex, x.shape[0]),
      );
    }
    return result;
  }

  /** Every trainable variable (router, noise, experts). */
  get trainableVariables(): tf.Variable[] {
    return paramTensors(this.params) as tf.Variable[];
  }

  /** Free the variables. */
  dispose(): void {
    disposeParams(this.params);
  }
}

/** Every tensor of an MoE parameter set. */
export function paramTensors(p: MoEParams): tf.Tensor[] {
  return [
    p.routerWeight,
    ...(p.noiseWeight ? [p.noiseWeight] : []),
    ...p.experts.flatMap(expertTensors),
  ];
}

/** Dispose every tensor of an MoE parameter set. */
export function disposeParams(p: MoEParams): void {
  for (const t of paramTensors(p)) t.dispose();
}
