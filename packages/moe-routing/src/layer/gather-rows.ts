import { segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';

/**
 * `x[idx[i], :]` for host indices, whose gradient is a segment sum over the
 * same indices. tfjs' own gather gradient is `unsortedSegmentSum`, which the
 * cpu backend runs as one masked pass per output row (O(rows · n · D)); the
 * Plexus segment-sum kernel is one pass (O(n · D)).
 */
export function gatherRows(x: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const rows = x.shape[0];
  const f = tf.customGrad((input) => ({
    value: tf.gather(input as tf.Tensor, tf.tensor1d(idx, 'int32')),
    gradFunc: (dy) => segmentSum(dy as tf.Tensor2D, idx, rows),
  }));
  return f(x) as tf.Tensor2D;
}
