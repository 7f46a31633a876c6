import * as tf from '@tensorflow/tfjs-core';
import { onHost, runHostOp } from '../host/host-op.js';
import { matMulFlagsFast } from '../host/matmul-flags.js';

/** Row blocks of a `[Σ rows, w]` tensor; a host copy on wasm/cpu (wasm's split copies the input per piece). */
function splitRows(x: tf.Tensor2D, rows: readonly number[]): tf.Tensor2D[] {
  const w = x.shape[1];
  if (!onHost()) return tf.split(x, [...rows], 0) as tf.Tensor2D[];
  return runHostOp(
    'PlexusSplitRows',
    [x],
    rows.map((r) => [r, w]),
    ([src], outs) => {
      let off = 0;
      for (const o of outs) {
        o.set(src!.subarray(off, off + o.length));
        off += o.length;
      }
    },
  ) as tf.Tensor2D[];
}

/**
 * `x · [W₁; W₂; …]ᵀ` for weights in `nn.Linear`'s `[out, in]` layout: one
 * product for several projections of the same input (Q, K and V; gate and
 * up), `[n, in]` → `[n, Σ out]`, with the hand-written gradient
 * `dx = dy · W` and `dW = dyᵀ · x` (already in `[out, in]` layout), split
 * into the weights' row blocks by a host copy. Transposed operands go to
 * `matMul` as flags where that is fast ({@link matMulFlagsFast}); with
 * tfjs-backend-wasm's own kernel (5–10× slower transposed) `W` and `dy` are
 * transposed explicitly instead. Autodiff of the transposed product needed
 * three more transposes, a clone of the transposed weight
 * and a split that copies the whole gradient once per weight on wasm. A
 * weight that is a `tf.Variable` is read directly in the backward pass
 * rather than cloned (a variable is neither disposed nor reassigned
 * between a loss and its gradients).
 */
export function linearCat(x: tf.Tensor2D, weights: readonly tf.Tensor[]): tf.Tensor2D {
  const rows = weights.map((w) => w.shape[0]!);
  const single = weights.length === 1 && weights[0] instanceof tf.Variable;
  const flags = matMulFlagsFast();
  const f = tf.customGrad((...args) => {
    const xt = args[0] as tf.Tensor2D;
    const ws = args.slice(1, weights.length + 1) as tf.Tensor2D[];
    const save = args[weights.length + 1] as tf.GradSaveFunc;
    const w = ws.length === 1 ? ws[0]! : (tf.concat(ws, 0) as tf.Tensor2D);
    save(single ? [xt] : [xt, w]);
    return {
      value: flags ? tf.matMul(xt, w, false, true) : tf.tidy(() => tf.matMul(xt, tf.transpose(w))),
      gradFunc: (dy, saved) => {
        const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D | undefined];
        const d = dy as tf.Tensor2D;
        const dx = tf.matMul(d, sw ?? (weights[0] as tf.Tensor2D));
        const dw = flags ? tf.matMul(d, sx, true, false) : tf.matMul(tf.transpose(d), sx);
        return [dx, ...(weights.length === 1 ? [dw] : splitRows(dw as tf.Tensor2D, rows))];
      },
    };
  });
  return f(x, ...weights) as tf.Tensor2D;
}
