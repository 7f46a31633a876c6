import * as tf from '@tensorflow/tfjs-core';
import { onHost, runHostOp } from './host-op.js';

/** The tensors' values end to end as one `[Σ size]` vector (one host copy on wasm/cpu). */
export function flatten(tensors: readonly tf.Tensor[]): tf.Tensor1D {
  const total = tensors.reduce((a, t) => a + t.size, 0);
  if (!onHost()) return tf.concat(tensors.map((t) => tf.reshape(t, [t.size]))) as tf.Tensor1D;
  return runHostOp('PlexusFlatten', tensors, [[total]], (ins, [out]) => {
    let off = 0;
    for (const x of ins) {
      out!.set(x, off);
      off += x.length;
    }
  })[0] as tf.Tensor1D;
}

/** Cut a `[Σ size]` vector back into tensors of the given shapes (one host copy on wasm/cpu). */
export function unflatten(flat: tf.Tensor1D, shapes: readonly (readonly number[])[]): tf.Tensor[] {
  const sizes = shapes.map((s) => s.reduce((a, d) => a * d, 1));
  if (!onHost()) return tf.split(flat, sizes).map((t, i) => tf.reshape(t, [...shapes[i]!]));
  return runHostOp('PlexusUnflatten', [flat], shapes, ([src], outs) => {
    let off = 0;
    for (const o of outs) {
      o.set(src!.subarray(off, off + o.length));
      off += o.length;
    }
  });
}
