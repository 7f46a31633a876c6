import { segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { onHost, runHostOp } from './host/host-op.js';
import { matMulFlagsFast } from './host/matmul-flags.js';

export { crossEntropy } from './fused/cross-entropy.js';

/**
 * The `[M, K]` slices `x[0], x[1], …` of a `[G, M, K]` tensor. On wasm and
 * cpu one host kernel copies every slice straight from the input's memory:
 * the wasm backend's Slice (and SplitV, which slices) copies the whole input
 * out of the heap for every slice it takes, G full copies for G slices,
 * and its GatherV2 moves one element at a time; reading the input to JS
 * first (as this did before) left ~10 MB of garbage per training step.
 */
function unstack3d(x: tf.Tensor3D): tf.Tensor2D[] {
  const [g, m, k] = x.shape;
  if (onHost())
    return runHostOp(
      'PlexusUnstack',
      [x],
      Array.from({ length: g }, () => [m, k]),
      ([src], outs) => {
        for (let i = 0; i < g; i++) outs[i]!.set(src!.subarray(i * m * k, (i + 1) * m * k));
      },
    ) as tf.Tensor2D[];
  return Array.from(
    { length: g },
    (_, i) => tf.reshape(tf.slice(x, [i, 0, 0], [1, m, k]), [m, k]) as tf.Tensor2D,
  );
}

/** `a[g] · b[g]` for every `g`, as one plain 2-D matmul per slice. */
function sliceMatmuls(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  return tf.tidy(() => {
    const [g, m] = a.shape;
    const n = b.shape[2];
    const as = unstack3d(a);
    const bs = unstack3d(b);
    const products = as.map((ai, i) => tf.matMul(ai, bs[i]!));
    if (!onHost()) return tf.reshape(tf.concat(products, 0), [g, m, n]) as tf.Tensor3D;
    // One host copy per product: tfjs-backend-wasm's Concat copies in JS row by row.
    return runHostOp('PlexusStack', products, [[g, m, n]], (ins, [out]) => {
      for (let i = 0; i < g; i++) out!.set(ins[i]!, i * m * n);
    })[0] as tf.Tensor3D;
  });
}

/**
 * Batched `a · b` for `[G, M, K] × [G, K, N]`, forward and backward: one
 * batched `matMul` (transposes as flags) where that is fast
 * ({@link matMulFlagsFast}: `@plexus/tensor`'s wasm GEMM), otherwise G plain
 * 2-D matmuls of explicitly transposed operands: tfjs' own wasm
 * `BatchMatMul` with a batch above one ran the attention shapes here
 * (`[128, 32] × [32, 64]`, G = 16) at 0.2 GFLOP/s, and G slices and 2-D
 * products took half the time.
 */
export function batchMatmul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const batched = matMulFlagsFast();
  const f = tf.customGrad((x, y, save) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor, y as tf.Tensor]);
    const [xt, yt] = [x as tf.Tensor3D, y as tf.Tensor3D];
    return {
      value: batched ? tf.matMul(xt, yt) : sliceMatmuls(xt, yt),
      gradFunc: (dy, saved) => {
        const [sx, sy] = saved as [tf.Tensor3D, tf.Tensor3D];
        const d = dy as tf.Tensor3D;
        if (batched) return [tf.matMul(d, sy, false, true), tf.matMul(sx, d, true, false)];
        return [
          sliceMatmuls(d, tf.transpose(sy, [0, 2, 1])),
          sliceMatmuls(tf.transpose(sx, [0, 2, 1]), d),
        ];
      },
    };
  });
  return f(a, b) as tf.Tensor3D;
}

/**
 * Split a `[n, w]` tensor into column blocks of the given widths (summing to
 * `w`), each differentiable (its gradient pads `dy` back to `w` columns). On
 * wasm and cpu each block is one host kernel copying rows of the input's
 * memory: the wasm backend's SplitV slices, and each slice copies the whole
 * input out of the heap first.
 */
export function splitColumns(x: tf.Tensor2D, widths: readonly number[]): tf.Tensor2D[] {
  const [n, w] = x.shape;
  let start = 0;
  return widths.map((width) => {
    const from = start;
    start += width;
    const f = tf.customGrad((t) => {
      const value = onHost()
        ? runHostOp('PlexusSliceColumns', [t as tf.Tensor], [[n, width]], ([src], [out]) => {
            for (let r = 0; r < n; r++)
              out!.set(src!.subarray(r * w + from, r * w + from + width), r * width);
          })[0]!
        : tf.slice(t as tf.Tensor2D, [0, from], [n, width]);
      return {
        value,
        gradFunc: (dy) =>
          tf.pad(dy as tf.Tensor2D, [
            [0, 0],
            [from, w - from - width],
          ]),
      };
    });
    return f(x) as tf.Tensor2D;
  });
}

/**
 * Rotary tables for token positions: `cos` and `sin` `[n, headDim]`, each
 * frequency repeated in both halves as Hugging Face's `LlamaRotaryEmbedding`
 * lays them out (`emb = cat(freqs, freqs)`), so `rotate_half` checkpoints load
 * unchanged ("RoFormer: Enhanced Transformer with Rotary Position
 * Embedding", Su et al., 2021). Computed in float64 on the host.
 */
export function ropeTables(
  positions: ArrayLike<number>,
  headDim: number,
  theta: number,
): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const inv = new Float64Array(half);
  // inv_freq in float32, as HF computes it, so angles match at long positions.
  for (let i = 0; i < half; i++)
    inv[i] = Math.fround(1 / Math.fround(theta ** ((2 * i) / headDim)));
  const n = positions.length;
  const cos = new Float32Array(n * headDim);
  const sin = new Float32Array(n * headDim);
  for (let t = 0; t < n; t++) {
    const p = positions[t]!;
    for (let i = 0; i < half; i++) {
      const a = Math.fround(p * inv[i]!);
      const c = Math.cos(a);
      const s = Math.sin(a);
      cos[t * headDim + i] = c;
      cos[t * headDim + half + i] = c;
      sin[t * headDim + i] = s;
      sin[t * headDim + half + i] = s;
    }
  }
  return { cos, sin };
}

/**
 * Rows `table[idx[i]]` for host indices, with the gradient as one segment
 * sum over the same indices: tfjs' own gather gradient
 * (`unsortedSegmentSum`) makes one pass per table row on the cpu backend,
 * O(vocab · tokens · width) for an embedding. On wasm and cpu one host
 * kernel copies the rows: the wasm backend's GatherV2 moves one element at a
 * time.
 */
export function gatherRows(table: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const [rows, w] = table.shape;
  for (let i = 0; i < idx.length; i++) {
    const r = idx[i]!;
    if (!(r >= 0 && r < rows))
      throw new RangeError(`gatherRows: index ${r} at ${i} is outside [0, ${rows})`);
  }
  const f = tf.customGrad((t) => {
    const value = onHost()
      ? runHostOp('PlexusGatherRows', [t as tf.Tensor], [[idx.length, w]], ([src], [out]) => {
          for (let i = 0; i < idx.length; i++) {
            const r = idx[i]!;
            out!.set(src!.subarray(r * w, (r + 1) * w), i * w);
          }
        })[0]!
      : tf.gather(t as tf.Tensor2D, tf.tensor1d(idx, 'int32'));
    return { value, gradFunc: (dy) => segmentSum(dy as tf.Tensor2D, idx, rows) };
  });
  return f(table) as tf.Tensor2D;
}
