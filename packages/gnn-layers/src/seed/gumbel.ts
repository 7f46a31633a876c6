import * as tf from '@tensorflow/tfjs-core';

/**
 * Straight-through estimator: the forward value is the one-hot of each row's
 * argmax of `soft`, the backward pass hands the upstream gradient to `soft`
 * unchanged, as if the identity had been applied. This is the
 * `y_hard - stop_gradient(y_soft) + y_soft` trick of "Categorical
 * Reparameterization with Gumbel-Softmax" (Jang, Gu & Poole, 2017), written
 * as a custom gradient because tfjs has no stop-gradient op.
 */
export function straightThrough(soft: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad((s) => ({
    value: tf.cast(
      tf.oneHot(tf.argMax(s as tf.Tensor2D, 1), (s as tf.Tensor2D).shape[1]),
      'float32',
    ),
    gradFunc: (dy) => dy,
  }));
  return f(soft) as tf.Tensor2D;
}

/** Options of {@link gumbelSoftmax}. */
export interface GumbelSoftmaxOptions {
  /**
   * Softmax temperature τ > 0 (lower is closer to one-hot): a number, or a
   * tensor broadcast against the logits, e.g. one τ per row `[N, 1]` from
   * Co-GNN's learned temperature network; gradients then reach τ too.
   */
  readonly temperature: number | tf.Tensor;
  /** Seed of the Gumbel noise; `undefined` adds none (deterministic argmax). */
  readonly seed?: number | undefined;
  /** One-hot forward values with straight-through gradients (default true). */
  readonly hard?: boolean;
}

/**
 * Gumbel-softmax over the last axis of `logits` `[N, K]`:
 * `softmax((logits + g) / τ)` with `g = -log(-log u)`, `u ~ U(0, 1)` drawn
 * from the seeded generator, so the argmax is a sample of the categorical
 * distribution `softmax(logits)` and runs are reproducible. With `hard`, the
 * sample is exactly one-hot and gradients pass straight through.
 */
export function gumbelSoftmax(logits: tf.Tensor2D, options: GumbelSoftmaxOptions): tf.Tensor2D {
  let z: tf.Tensor2D = logits;
  if (options.seed !== undefined) {
    // Clamp u away from 0 and 1: -log(-log u) is infinite at both ends.
    const u = tf.randomUniform(logits.shape, 1e-7, 1 - 1e-7, 'float32', options.seed);
    z = tf.add(logits, tf.neg(tf.log(tf.neg(tf.log(u))))) as tf.Tensor2D;
  }
  const soft = tf.softmax(tf.div(z, options.temperature)) as tf.Tensor2D;
  return options.hard === false ? soft : straightThrough(soft);
}
