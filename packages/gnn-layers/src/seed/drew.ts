import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from '../layers/check-input.js';
import { type LayerInput, project } from '../layers/input.js';
import type { ApplyContext, GnnLayerV1 } from '../layers/layer.js';
import { type RingAggregation, ringOperators } from './k-hop-rings.js';

/** Options of {@link createDrewModel}. */
export interface DrewModelOptions {
  /** Hidden width (default 32). */
  readonly hidden?: number;
  /** Message-passing layers `L` (default 4); layer ℓ reaches `ℓ` hops. */
  readonly layers?: number;
  /**
   * Delay parameter ν >= 1 (default 1): ring `k` sends the state of layer
   * `ℓ - max(0, k - ν)`. `1` is the full delay, `Infinity` none.
   */
  readonly nu?: number;
  /** Per-ring aggregation (default `'mean'`). */
  readonly aggregation?: RingAggregation;
  readonly seed?: number;
}

/** A DRew network; `delay(k)` is the delay τ_ν(k) its rings use. */
export interface DrewModel extends GnnLayerV1 {
  readonly hidden: number;
  readonly layers: number;
  readonly nu: number;
  delay(k: number): number;
}

/**
 * ν-DRew, "DRew: Dynamically Rewired Message Passing with Delay" (Gutteridge,
 * Dong, Bronstein & Di Giovanni, ICML 2023), as a full network from node
 * features to outputs. An encoder `h⁰ = X W_enc + b`, then layers ℓ = 0..L-1
 *
 *   `h^{ℓ+1}_i = h^ℓ_i + ReLU( b_ℓ + h^ℓ_i W_{ℓ,0} + Σ_{k=1}^{ℓ+1} AGG_{j ∈ N_k(i)} h^{ℓ-τ_ν(k)}_j W_{ℓ,k} )`
 *
 * where `N_k(i)` is the k-hop ring of `i` (distance exactly k) and
 * `τ_ν(k) = max(0, k - ν)` the delay, then a linear readout. The paper's
 * update takes the node's own state beside the ring aggregates; the self term
 * `W_{ℓ,0}` gives it that (without it, a node with no in-neighbours, such as
 * a leaf of Tree-NeighborsMatch, never passes its features through a
 * nonlinearity before they are aggregated). The graph is
 * rewired gradually: layer ℓ+1 adds the ring ℓ+1, so distant nodes interact
 * directly instead of through a bottleneck of intermediate nodes, and the
 * delay makes a far node's message the state it had several layers ago,
 * as if it had travelled hop by hop, which keeps a notion of distance
 * without over-squashing. Separate weights per layer and hop, as the paper.
 */
export function createDrewModel(
  inFeatures: number,
  outFeatures: number,
  options: DrewModelOptions = {},
): DrewModel {
  const hidden = options.hidden ?? 32;
  const layers = options.layers ?? 4;
  const nu = options.nu ?? 1;
  const aggregation = options.aggregation ?? 'mean';
  checkPositive('drew', 'inFeatures', inFeatures);
  checkPositive('drew', 'outFeatures', outFeatures);
  checkPositive('drew', 'hidden', hidden);
  checkPositive('drew', 'layers', layers);
  if (!(nu >= 1)) throw new GnnLayersError('drew', `nu must be >= 1 (or Infinity), got ${nu}`);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('drew');
  const wEnc = glorotUniform(rng, inFeatures, hidden, `${name}_w_enc`);
  const bEnc = zerosVariable(hidden, `${name}_b_enc`);
  // hopWeights[ℓ][k] = W_{ℓ,k}; k = 0 is the node's own state.
  const hopWeights: tf.Variable[][] = [];
  const biases: tf.Variable[] = [];
  for (let l = 0; l < layers; l++) {
    const perHop: tf.Variable[] = [glorotUniform(rng, hidden, hidden, `${name}_w_${l}_self`)];
    for (let k = 1; k <= l + 1; k++)
      perHop.push(glorotUniform(rng, hidden, hidden, `${name}_w_${l}_${k}`));
    hopWeights.push(perHop);
    biases.push(zerosVariable(hidden, `${name}_b_${l}`));
  }
  const wOut = glorotUniform(rng, hidden, outFeatures, `${name}_w_out`);
  const bOut = zerosVariable(outFeatures, `${name}_b_out`);
  const variables = [wEnc, bEnc, ...hopWeights.flatMap((w, l) => [...w, biases[l]!]), wOut, bOut];
  const delay = (k: number): number => Math.max(0, k - nu);
  return {
    specificationVersion: 'v1',
    kind: 'drew',
    inFeatures,
    outFeatures,
    hidden,
    layers,
    nu,
    variables,
    delay,
    apply(graph: CsrGraph, x: LayerInput, _ctx: ApplyContext): tf.Tensor2D {
      checkLayerInput('drew', graph, x, inFeatures);
      const rings = ringOperators(graph, layers, aggregation);
      const history: tf.Tensor2D[] = [tf.add(project(x, wEnc), bEnc) as tf.Tensor2D];
      for (let l = 0; l < layers; l++) {
        const terms: tf.Tensor2D[] = [
          tf.matMul(history[l]!, hopWeights[l]![0] as tf.Tensor2D) as tf.Tensor2D,
        ];
        for (let k = 1; k <= l + 1; k++) {
          const source = history[l - delay(k)]!;
          // Transform first: the ring product then moves `hidden` columns once per hop.
          const msg = tf.matMul(source, hopWeights[l]![k] as tf.Tensor2D) as tf.Tensor2D;
          terms.push(spmm(rings[k - 1]!, msg));
        }
        const update = tf.relu(tf.add(tf.addN(terms), biases[l]!));
        history.push(tf.add(history[l]!, update) as tf.Tensor2D);
      }
      return tf.add(tf.matMul(history[layers]!, wOut as tf.Tensor2D), bOut) as tf.Tensor2D;
    },
    dispose() {
      for (const v of variables) v.dispose();
    },
  };
}
