import * as tf from '@tensorflow/tfjs-core';

/**
 * `dy` reshaped with the reduced axes of `x` kept as 1s, times ones shaped
 * like `x` made by `onesLike` (a fill on the device). Not `broadcastTo`:
 * webgpu tiles a small input on the host, which took 2.3 s for 1M × 64.
 */
function spread(dy: tf.Tensor, x: tf.Tensor, axis: unknown): tf.Tensor {
  const expanded = x.shape.slice();
  const axes = tf.util.parseAxisParam(axis as number | number[], x.shape);
  for (const a of axes) expanded[a] = 1;
  return tf.tidy(() => tf.mul(tf.reshape(dy, expanded), tf.onesLike(x)));
}

/**
 * The gradients of Sum and Mean with the ones made on the device. tfjs' own
 * multiply the upstream gradient by `tf.ones(x.shape)`, which tfjs-core
 * builds as a host array and uploads: for a 1M × 64 input on webgpu that is
 * 256 MB written and copied per backward pass (about 0.45 s measured on an
 * H100, against 6 ms for the layer's sparse product). Same values on every
 * backend.
 */
export const reductionGradConfigs: tf.GradConfig[] = [
  {
    kernelName: tf.Sum,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as tf.Tensor[];
      return { x: () => spread(dy as tf.Tensor, x!, (attrs as { axis: unknown }).axis) };
    },
  },
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as tf.Tensor[];
      const axis = (attrs as { axis: unknown }).axis;
      const axes = tf.util.parseAxisParam(axis as number | number[], x!.shape);
      const count = axes.reduce((n, a) => n * x!.shape[a]!, 1);
      return { x: () => tf.div(spread(dy as tf.Tensor, x!, axis), count) };
    },
  },
];
