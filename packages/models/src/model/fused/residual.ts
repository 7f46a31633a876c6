import * as tf from '@tensorflow/tfjs-core';

/**
 * `a + b` for same-shaped tensors (the residual stream) whose gradient
 * passes `dy` to both inputs: tfjs' `Add` saves (clones) both inputs for a
 * broadcasting reduction that same-shaped inputs never need.
 */
export function residualAdd(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  if (a.shape.join() !== b.shape.join()) return tf.add(a, b);
  const f = tf.customGrad((x, y) => ({
    value: tf.add(x as tf.Tensor, y as tf.Tensor),
    // Two distinct tensors: the tape may dispose one input's accumulated gradient.
    gradFunc: (dy) => [tf.reshape(dy, a.shape), tf.reshape(dy, b.shape)],
  }));
  return f(a, b) as tf.Tensor2D;
}
