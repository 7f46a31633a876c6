import * as tf from '@tensorflow/tfjs-core';

/**
 * Turns an all-gathered buffer (`worldSize` patches of shape `patch`, rank
 * after rank) into the full tensor `[batch, worldSize * h, ...rest]`: the
 * gathered order is `[P, batch, h, ...rest]`, so the patch axis moves behind
 * the batch axis before the rows merge.
 */
export function assemblePatches(
  gathered: Float32Array,
  patch: readonly number[],
  worldSize: number,
): tf.Tensor {
  const [batch, h, ...rest] = patch as [number, number, ...number[]];
  if (worldSize === 1) return tf.tensor(gathered, patch.slice());
  return tf.tidy(() => {
    const stacked = tf.tensor(gathered, [worldSize, batch, h, ...rest]);
    const perm = [1, 0, ...Array.from({ length: patch.length }, (_, i) => i + 2)].slice(
      0,
      patch.length + 1,
    );
    return tf.reshape(tf.transpose(stacked, perm), [batch, worldSize * h, ...rest]);
  });
}

/** Replaces rows `[rank * h, (rank + 1) * h)` of `full` with `local` (new tensor). */
export function withLocalPatch(full: tf.Tensor, local: tf.Tensor, rank: number): tf.Tensor {
  return tf.tidy(() => {
    const h = local.shape[1]!;
    const rows = full.shape[1]!;
    const parts: tf.Tensor[] = [];
    const begin = full.shape.map(() => 0);
    const size = full.shape.map(() => -1);
    if (rank > 0) parts.push(tf.slice(full, begin, withAxis1(size, rank * h)));
    parts.push(local);
    const after = rows - (rank + 1) * h;
    if (after > 0)
      parts.push(tf.slice(full, withAxis1(begin, (rank + 1) * h), withAxis1(size, after)));
    return parts.length === 1 ? tf.clone(local) : tf.concat(parts, 1);
  });
}

/** Rows `[start, start + h)` of `full` along axis 1 (new tensor). */
export function patchRows(full: tf.Tensor, start: number, h: number): tf.Tensor {
  const begin = full.shape.map(() => 0);
  const size = full.shape.map(() => -1);
  return tf.slice(full, withAxis1(begin, start), withAxis1(size, h));
}

function withAxis1(values: number[], v: number): number[] {
  const out = values.slice();
  out[1] = v;
  return out;
}
