import type { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { MoeRoutingError } from '../errors.js';

/** Expert MLP kind. */
export type ExpertActivation = 'swiglu' | 'gelu';

/**
 * Weights of one expert MLP (a dense FFN). SwiGLU: `(silu(x·w1) ⊙ x·w3)·w2`,
 * no biases ("GLU Variants Improve Transformer", Shazeer, 2020). GELU:
 * `gelu(x·w1 + b1)·w2 + b2` ("Gaussian Error Linear Units (GELUs)",
 * Hendrycks & Gimpel, 2016).
 */
export interface ExpertParams<T extends tf.Tensor = tf.Tensor> {
  /** `[modelDim, hiddenDim]`. */
  readonly w1: T;
  /** `[hiddenDim, modelDim]`. */
  readonly w2: T;
  /** SwiGLU gate projection `[modelDim, hiddenDim]`. */
  readonly w3?: T;
  /** GELU hidden bias `[hiddenDim]`. */
  readonly b1?: T;
  /** GELU output bias `[modelDim]`. */
  readonly b2?: T;
}

/** Exact GELU, `x · Φ(x) = 0.5 x (1 + erf(x / √2))`, differentiable through tfjs' erf. */
export function gelu(x: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2)))));
}

/** One expert (or a dense FFN) on `[n, modelDim]` rows. */
export function expertForward(
  p: ExpertParams,
  activation: ExpertActivation,
  x: tf.Tensor2D,
): tf.Tensor2D {
  return tf.tidy(() => {
    if (activation === 'swiglu') {
      if (!p.w3)
        throw new MoeRoutingError('experts', 'a SwiGLU expert needs w3 (the gate projection)');
      const a = tf.matMul(x, p.w1 as tf.Tensor2D);
      const h = tf.mul(tf.mul(tf.sigmoid(a), a), tf.matMul(x, p.w3 as tf.Tensor2D));
      // silu(a) = a · sigmoid(a), times the linear gate x·w3: SwiGLU.
      return tf.matMul(h, p.w2 as tf.Tensor2D);
    }
    const pre = tf.matMul(x, p.w1 as tf.Tensor2D);
    const h = gelu(p.b1 ? tf.add(pre, p.b1) : pre);
    const out = tf.matMul(h, p.w2 as tf.Tensor2D);
    return p.b2 ? tf.add(out, p.b2) : out;
  }) as tf.Tensor2D;
}

/**
 * All experts on padded `[E, C, modelDim]` slots. Each expert runs on its
 * own `[C, D]` block: tfjs' rank-3 batched matmul (and its gradient) is over
 * 20x slower than E plain matmuls on the cpu backend, and the padding, not
 * the batching, is what capacity dispatch is about.
 */
export function expertsBatchedForward(
  experts: readonly ExpertParams[],
  activation: ExpertActivation,
  xs: tf.Tensor3D,
): tf.Tensor3D {
  return tf.tidy(() => {
    const blocks = tf.unstack(xs, 0) as tf.Tensor2D[];
    return tf.stack(blocks.map((b, e) => expertForward(experts[e]!, activation, b))) as tf.Tensor3D;
  });
}

/**
 * Seeded expert weights with std `1/√fan_in` (so activations keep their
 * scale), as plain tensors; GELU experts get zero biases.
 */
export function initExpertParams(
  modelDim: number,
  hiddenDim: number,
  activation: ExpertActivation,
  rng: SeededRandom,
): ExpertParams<tf.Tensor> {
  const mat = (rows: number, cols: number): tf.Tensor2D =>
    tf.tensor2d(rng.fillNormal(new Float32Array(rows * cols), 0, 1 / Math.sqrt(rows)), [
      rows,
      cols,
    ]);
  const w1 = mat(modelDim, hiddenDim);
  const w2 = mat(hiddenDim, modelDim);
  if (activation === 'swiglu') return { w1, w2, w3: mat(modelDim, hiddenDim) };
  return { w1, w2, b1: tf.zeros([hiddenDim]), b2: tf.zeros([modelDim]) };
}

/** Tensors of an expert, in a fixed order (for variables and disposal). */
export function expertTensors(p: ExpertParams): tf.Tensor[] {
  return [p.w1, p.w2, p.w3, p.b1, p.b2].filter((t): t is tf.Tensor => t !== undefined);
}
