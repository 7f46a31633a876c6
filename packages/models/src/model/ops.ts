import { segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';

/**
 * RMSNorm over the last axis, `x / sqrt(mean(x²) + eps) · weight`
 * ("Root Mean Square Layer Normalization", Zhang & Sennrich, 2019).
 */
export function rmsNorm(x: tf.Tensor2D, weight: tf.Tensor, eps: number): tf.Tensor2D {
  return tf.tidy(() => {
    const ms = tf.mean(tf.square(x), -1, true);
    return tf.mul(tf.mul(x, tf.rsqrt(tf.add(ms, eps))), weight);
  });
}

/** Swap the last two axes. */
function swapLast(x: tf.Tensor): tf.Tensor {
  const perm = x.shape.map((_, i) => i);
  const r = perm.length;
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return tf.transpose(x, perm);
}

/**
 * `a · b` (rank 2, or batched with equal leading dims) whose gradients are
 * plain matmuls of explicitly transposed operands. tfjs' own gradient uses
 * `matMul` with `transposeA`/`transposeB`, which the wasm backend runs 5–10×
 * slower than a plain product (measured on `[512, 128] × [128, 344]`),
 * while the transposes cost one copy of an operand.
 */
export function matmul<T extends tf.Tensor>(a: T, b: tf.Tensor): T {
  const f = tf.customGrad((x, y, save) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor, y as tf.Tensor]);
    return {
      value: tf.matMul(x as tf.Tensor, y as tf.Tensor),
      gradFunc: (dy, saved) => {
        const [sx, sy] = saved as [tf.Tensor, tf.Tensor];
        return [tf.matMul(dy as tf.Tensor, swapLast(sy)), tf.matMul(swapLast(sx), dy as tf.Tensor)];
      },
    };
  });
  return f(a, b) as T;
}

/**
 * The `[M, K]` slices `x[0], x[1], …` of a `[G, M, K]` tensor. On wasm and
 * cpu the values are read once and each slice made from a subarray: the
 * wasm backend's Slice (and SplitV, which slices) copies the whole input
 * out of the heap for every slice it takes, G full copies for G slices,
 * and its GatherV2 moves one element at a time.
 */
function unstack3d(x: tf.Tensor3D): tf.Tensor2D[] {
  const [g, m, k] = x.shape;
  const backend = tf.getBackend();
  if (backend === 'wasm' || backend === 'cpu') {
    const data = x.dataSync() as Float32Array;
    return Array.from({ length: g }, (_, i) =>
      tf.tensor2d(data.subarray(i * m * k, (i + 1) * m * k), [m, k]),
    );
  }
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
    return tf.reshape(tf.concat(products, 0), [g, m, n]) as tf.Tensor3D;
  });
}

/**
 * Batched `a · b` for `[G, M, K] × [G, K, N]` computed as G plain 2-D
 * matmuls, forward and backward. tfjs' wasm `BatchMatMul` with a batch
 * above one ran the attention shapes here (`[128, 32] × [32, 64]`, G = 16)
 * at 0.2 GFLOP/s; G slices and 2-D products took half the time.
 */
export function batchMatmul(a: tf.Tensor3D, b: tf.Tensor3D): tf.Tensor3D {
  const f = tf.customGrad((x, y, save) => {
    (save as tf.GradSaveFunc)([x as tf.Tensor, y as tf.Tensor]);
    return {
      value: sliceMatmuls(x as tf.Tensor3D, y as tf.Tensor3D),
      gradFunc: (dy, saved) => {
        const [sx, sy] = saved as [tf.Tensor3D, tf.Tensor3D];
        const d = dy as tf.Tensor3D;
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
 * `x · Wᵀ` for a weight in `nn.Linear`'s `[out, in]` layout. The weight is
 * transposed (a small copy) so the product itself is a plain matmul; see
 * {@link matmul}.
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor): tf.Tensor2D {
  return tf.tidy(() => matmul(x, tf.transpose(weight)));
}

/** Whether tensors live in host memory, so reading them is a plain copy. */
function onHost(): boolean {
  const backend = tf.getBackend();
  return backend === 'wasm' || backend === 'cpu';
}

/**
 * Split a `[n, w]` tensor into column blocks of the given widths (summing to
 * `w`), each differentiable (its gradient pads `dy` back to `w` columns). On
 * wasm and cpu the values are read once and every block copied from them:
 * the wasm backend's SplitV slices, and each slice copies the whole input
 * out of the heap first.
 */
export function splitColumns(x: tf.Tensor2D, widths: readonly number[]): tf.Tensor2D[] {
  const [n, w] = x.shape;
  const data = onHost() ? (x.dataSync() as Float32Array) : undefined;
  let start = 0;
  return widths.map((width) => {
    const from = start;
    start += width;
    const f = tf.customGrad((t) => {
      let value: tf.Tensor2D;
      if (data) {
        const out = new Float32Array(n * width);
        for (let r = 0; r < n; r++)
          out.set(data.subarray(r * w + from, r * w + from + width), r * width);
        value = tf.tensor2d(out, [n, width]);
      } else value = tf.slice(t as tf.Tensor2D, [0, from], [n, width]);
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

/** SiLU, `x · sigmoid(x)`. */
export function silu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(x, tf.sigmoid(x)));
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
 * Apply rotary embeddings to `x` `[..., n, heads, headDim]`-shaped as
 * `[n, heads, headDim]` (token-major): `x·cos + rotate_half(x)·sin` with
 * `rotate_half(x) = cat(−x₂, x₁)`. `cos`/`sin` are `[n, 1, headDim]` tensors.
 */
export function applyRope(x: tf.Tensor3D, cos: tf.Tensor, sin: tf.Tensor): tf.Tensor3D {
  return tf.tidy(() => {
    const [n, heads, d] = x.shape;
    const half = d / 2;
    const [x1, x2] = splitColumns(tf.reshape(x, [n * heads, d]) as tf.Tensor2D, [half, half]);
    const rotated = tf.reshape(tf.concat([tf.neg(x2!), x1!], 1), [n, heads, d]);
    return tf.add(tf.mul(x, cos), tf.mul(rotated, sin)) as tf.Tensor3D;
  });
}

/**
 * Rows `table[idx[i]]` for host indices, with the gradient as one segment
 * sum over the same indices: tfjs' own gather gradient
 * (`unsortedSegmentSum`) makes one pass per table row on the cpu backend,
 * O(vocab · tokens · width) for an embedding. On wasm and cpu the rows are
 * copied on the host: the wasm backend's GatherV2 moves one element at a
 * time.
 */
export function gatherRows(table: tf.Tensor2D, idx: Int32Array): tf.Tensor2D {
  const [rows, w] = table.shape;
  const f = tf.customGrad((t) => {
    let value: tf.Tensor2D;
    if (onHost()) {
      const data = (t as tf.Tensor2D).dataSync() as Float32Array;
      const out = new Float32Array(idx.length * w);
      for (let i = 0; i < idx.length; i++) {
        const r = idx[i]!;
        if (!(r >= 0 && r < rows))
          throw new RangeError(`gatherRows: index ${r} at ${i} is outside [0, ${rows})`);
        out.set(data.subarray(r * w, (r + 1) * w), i * w);
      }
      value = tf.tensor2d(out, [idx.length, w]);
    } else value = tf.gather(t as tf.Tensor2D, tf.tensor1d(idx, 'int32'));
    return { value, gradFunc: (dy) => segmentSum(dy as tf.Tensor2D, idx, rows) };
  });
  return f(table) as tf.Tensor2D;
}

/**
 * Mean cross-entropy of `logits` `[n, vocab]` against host `targets`;
 * targets < 0 are ignored (Hugging Face's `ignore_index = -100`). Returns
 * the mean over the counted targets (0 when none count).
 */
export function crossEntropy(logits: tf.Tensor2D, targets: Int32Array): tf.Scalar {
  return tf.tidy(() => {
    let count = 0;
    for (const t of targets) if (t >= 0) count++;
    // tf.oneHot gives an all-zero row for a negative index: ignored targets add nothing.
    const onehot = tf.oneHot(tf.tensor1d(targets, 'int32'), logits.shape[1]);
    // logSoftmax rather than logSumExp: the latter's max-gradient builds a
    // broadcast Equal mask that the wasm backend runs slowly.
    const nll = tf.neg(tf.sum(tf.mul(onehot, tf.logSoftmax(logits)), 1));
    const mask = tf.tensor1d(Float32Array.from(targets, (t) => (t >= 0 ? 1 : 0)));
    return tf.div(tf.sum(tf.mul(nll, mask)), Math.max(count, 1)) as tf.Scalar;
  });
}
