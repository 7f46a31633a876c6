import * as tf from '@tensorflow/tfjs-core';
import { onHost, runHostOp } from '../host/host-op.js';

function crossEntropyComposite(logits: tf.Tensor2D, targets: Int32Array, count: number): tf.Scalar {
  return tf.tidy(() => {
    // tf.oneHot gives an all-zero row for a negative index: ignored targets add nothing.
    const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), logits.shape[1]);
    // logSoftmax rather than logSumExp: the latter's max-gradient builds a
    // broadcast Equal mask that the wasm backend runs slowly.
    const nll = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1));
    const mask = tf.tensor1d(Float32Array.from(targets, (t) => (t >= 0 ? 1 : 0)));
    return tf.div(tf.sum(tf.mul(nll, mask)), Math.max(count, 1)) as tf.Scalar;
  });
}

/**
 * Mean cross-entropy of `logits` `[n, vocab]` against host `targets`;
 * targets < 0 are ignored (Hugging Face's `ignore_index = -100`). Returns
 * the mean over the counted targets (0 when none count). On wasm and cpu a
 * hand-written gradient: `logSoftmax` forward, the target entries picked by
 * a host kernel, and `dlogits = dy·(softmax − onehot)/count` on counted rows
 * (0 on ignored ones) as `exp(logSoftmax)` scaled per row with the target
 * entries corrected by a host kernel; autodiff of the one-hot chain cloned
 * the `[n, vocab]` log-probabilities and one-hot matrix for its products.
 */
export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  let count = 0;
  for (const t of targets) if (t >= 0) count++;
  if (!onHost()) return crossEntropyComposite(logits, targets, count);
  const [n, V] = logits.shape;
  const scale = 1 / Math.max(count, 1);
  const rowScale = Float32Array.from(targets, (t) => (t >= 0 ? scale : 0));
  const f = tf.customGrad((x, save) => {
    const ls = tf.logSoftmax(x as tf.Tensor2D);
    (save as tf.GradSaveFunc)([ls]);
    const [loss] = runHostOp('PlexusCrossEntropyPick', [ls], [[]], ([lv], [out]) => {
      let total = 0;
      for (let r = 0; r < n; r++) if (targets[r]! >= 0) total -= lv![r * V + targets[r]!]!;
      out![0] = total * scale;
    });
    return {
      value: loss as tf.Scalar,
      gradFunc: (dy, saved) => {
        const probs = tf.mul(tf.exp(saved[0]!), tf.mul(tf.tensor2d(rowScale, [n, 1]), dy));
        return runHostOp(
          'PlexusCrossEntropyGrad',
          [probs, dy as tf.Tensor],
          [[n, V]],
          ([p, d], [out]) => {
            out!.set(p!);
            const g = d![0]! * scale;
            for (let r = 0; r < n; r++) if (targets[r]! >= 0) out![r * V + targets[r]!]! -= g;
          },
        )[0]!;
      },
    };
  });
  return f(logits) as tf.Scalar;
}
