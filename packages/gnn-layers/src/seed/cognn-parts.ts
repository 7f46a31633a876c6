import type { CsrGraph } from '@plexus/graph-core';
import { type SeededRandom, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { aggregationMatrix } from '../graph-operators.js';
import { glorotUniform, variableFrom, zerosVariable } from '../init.js';

/** Neighbour aggregation of a {@link CoGnnMpnn}: MeanGNN (`mean`) or SumGNN (`sum`). */
export type CoGnnMpnnAggregation = 'mean' | 'sum';

/**
 * A plain MPNN of the kind Co-GNN's action networks use
 * (the authors' `WeightedGNNConv` without edge weights): every layer is
 * `h W_s + AGG_{j -> i} h_j W_n + b`, ReLU between layers (not after the last).
 */
export interface CoGnnMpnn {
  readonly variables: readonly tf.Variable[];
  apply(graph: CsrGraph, h: tf.Tensor2D): tf.Tensor2D;
}

/**
 * A {@link CoGnnMpnn} with widths `dims` (`dims[0]` in, last out); biases
 * start at 0 except the last layer's, which starts at `finalBias` if given.
 */
export function createCoGnnMpnn(
  rng: SeededRandom,
  dims: readonly number[],
  aggregation: CoGnnMpnnAggregation,
  name: string,
  finalBias?: readonly number[],
): CoGnnMpnn {
  const last = dims.length - 2;
  const layers = dims.slice(1).map((out, l) => ({
    self: glorotUniform(rng, dims[l]!, out, `${name}_s_${l}`),
    neigh: glorotUniform(rng, dims[l]!, out, `${name}_n_${l}`),
    bias:
      l === last && finalBias !== undefined
        ? variableFrom(tf.tensor1d(finalBias as number[]), `${name}_b_${l}`)
        : zerosVariable(out, `${name}_b_${l}`),
  }));
  return {
    variables: layers.flatMap((p) => [p.self, p.neigh, p.bias]),
    apply(graph, h) {
      const a = aggregationMatrix(graph, aggregation);
      let x = h;
      layers.forEach((p, l) => {
        const y = tf.add(
          tf.add(
            tf.matMul(x, p.self as tf.Tensor2D),
            spmm(a, tf.matMul(x, p.neigh as tf.Tensor2D) as tf.Tensor2D),
          ),
          p.bias,
        ) as tf.Tensor2D;
        x = l < layers.length - 1 ? tf.relu(y) : y;
      });
      return x;
    },
  };
}

/**
 * Layer normalisation ("Layer Normalization", Ba, Kiros & Hinton, 2016) over
 * the feature axis, `γ (h - μ) / sqrt(σ² + 1e-5) + β`, PyTorch's epsilon.
 */
export interface CoGnnLayerNorm {
  readonly variables: readonly tf.Variable[];
  apply(h: tf.Tensor2D): tf.Tensor2D;
}

/** A {@link CoGnnLayerNorm} of width `dim`, γ = 1 and β = 0 initially. */
export function createCoGnnLayerNorm(dim: number, name: string): CoGnnLayerNorm {
  const gamma = variableFrom(tf.ones([dim]), `${name}_gamma`);
  const beta = zerosVariable(dim, `${name}_beta`);
  return {
    variables: [gamma, beta],
    apply(h) {
      const { mean, variance } = tf.moments(h, 1, true);
      const normed = tf.div(tf.sub(h, mean), tf.sqrt(tf.add(variance, 1e-5)));
      return tf.add(tf.mul(normed, gamma), beta) as tf.Tensor2D;
    },
  };
}

/**
 * Co-GNN's learned Gumbel temperature (the authors' `TempSoftPlus`): per node
 * `τ = 1 / (softplus(h w) + τ0)`, with `w` `[hidden, 1]` and no bias, so
 * `0 < τ ≤ 1/τ0` and each node sets how sharp its own action sample is.
 */
export interface CoGnnTemperature {
  readonly variables: readonly tf.Variable[];
  /** `[N, 1]` temperatures of the node states `h` `[N, hidden]`. */
  apply(h: tf.Tensor2D): tf.Tensor2D;
}

/** A {@link CoGnnTemperature} on `hidden`-wide states with offset `tau0 > 0`. */
export function createCoGnnTemperature(
  rng: SeededRandom,
  hidden: number,
  tau0: number,
  name: string,
): CoGnnTemperature {
  const w = glorotUniform(rng, hidden, 1, `${name}_w`);
  return {
    variables: [w],
    apply: (h) =>
      tf.reciprocal(tf.add(tf.softplus(tf.matMul(h, w as tf.Tensor2D)), tau0)) as tf.Tensor2D,
  };
}
