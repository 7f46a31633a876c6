import { segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';

/**
 * `x[idx]` on the host: tfjs-backend-wasm's GatherV2 moves one element at a
 * time (~2.6 ms for 1,024 rows of a `[512, 4]` probability matrix), a copy
 * of the rows from one read takes microseconds.
 */
function hostGather(x: tf.Tensor, idx: Int32Array): tf.Tensor {
  const rows = x.shape[0]!;
  const w = rows === 0 ? 0 : x.size / rows;
  const data = x.dataSync() as Float32Array | Int32Array;
  const out =
    x.dtype === 'int32' ? new Int32Array(idx.length * w) : new Float32Array(idx.length * w);
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    if (!(r >= 0 && r < rows))
      throw new RangeError(`gatherRows: index ${r} at ${i} is outside [0, ${rows})`);
    if (w === 1) out[i] = data[r]!;
    else out.set(data.subarray(r * w, (r + 1) * w), i * w);
  }
  return tf.tensor(out, [idx.length, ...x.shape.slice(1)], x.dtype);
}

/**
 * `x[idx[i]]` along axis 0 for host indices (1-D or 2-D `x`), whose gradient
 * is a segment sum over the same indices. tfjs' own gather gradient is
 * `unsortedSegmentSum`, which the cpu backend runs as one masked pass per
 * output row (O(rows · n · D)); the Plexus segment-sum kernel is one pass
 * (O(n · D)). This took routing + dispatch overhead from ~730 ms to a few
 * tens of ms at 512 tokens × 8 experts on the cpu backend. On wasm and cpu
 * the forward gather is a host copy.
 */
export function gatherRows<T extends tf.Tensor1D | tf.Tensor2D>(x: T, idx: Int32Array): T {
  const rows = x.shape[0];
  const host = tf.getBackend() === 'wasm' || tf.getBackend() === 'cpu';
  const f = tf.customGrad((input) => ({
    value: host
      ? hostGather(input as tf.Tensor, idx)
      : tf.gather(input as tf.Tensor, tf.tensor1d(idx, 'int32')),
    gradFunc: (dy) => segmentSum(dy as tf.Tensor1D | tf.Tensor2D, idx, rows),
  }));
  return f(x) as T;
}
