import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, spmm } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { aggregationMatrix } from '../graph-operators.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from '../layers/check-input.js';
import { type LayerInput, project } from '../layers/input.js';
import type { ApplyContext, GnnLayerV1 } from '../layers/layer.js';
import { type GatedAggregation, gatedMessages } from './gated-messages.js';
import { gumbelSoftmax } from './gumbel.js';

/** Co-GNN's node actions, in the order of the action network's logits. */
export const COGNN_ACTIONS = ['standard', 'listen', 'broadcast', 'isolate'] as const;
/** One of {@link COGNN_ACTIONS}. */
export type CoGnnAction = (typeof COGNN_ACTIONS)[number];

/** Options of {@link createCoGnnModel}. */
export interface CoGnnModelOptions {
  /** Hidden width of the environment network (default 32). */
  readonly hidden?: number;
  /** Layers (default 3); each picks fresh actions. */
  readonly layers?: number;
  /** Gumbel-softmax temperature τ (default 0.5). */
  readonly temperature?: number;
  /** Environment aggregation over active incoming arcs (default `'sum'`). */
  readonly aggregation?: GatedAggregation;
  /**
   * Skip connection `h + ReLU(...)` around every environment layer (default
   * true; the authors' code offers it too), so deep stacks keep a node's own
   * state even where the sampled actions cut it off from everyone.
   */
  readonly residual?: boolean;
  readonly seed?: number;
}

/** A Co-GNN; `actions` reports the deterministic (evaluation) actions per layer. */
export interface CoGnnModel extends GnnLayerV1 {
  readonly hidden: number;
  readonly layers: number;
  /** Action index (into {@link COGNN_ACTIONS}) of every node, per layer, without noise. */
  actions(graph: CsrGraph, x: LayerInput): Int32Array[];
}

interface LayerVars {
  readonly actSelf: tf.Variable;
  readonly actNeigh: tf.Variable;
  readonly actBias: tf.Variable;
  readonly envSelf: tf.Variable;
  readonly envNeigh: tf.Variable;
  readonly envBias: tf.Variable;
}

/**
 * Co-GNN, "Cooperative Graph Neural Networks" (Finkelshtein, Huang, Ceylan &
 * Bronstein, ICML 2024). Every layer, an action network (a one-layer
 * MeanGNN: `h W_s + mean_{j→i} h_j W_n + b`, 4 logits) picks per node one of
 * STANDARD (listen and broadcast), LISTEN, BROADCAST or ISOLATE by
 * straight-through Gumbel-softmax; then the environment network
 * `h'_i = h_i + ReLU(h_i W_s + AGG_{j → i, i listens, j broadcasts} h_j W_n + b)`
 * passes messages on the directed graph those actions induce. Nodes thereby
 * rewire the graph per layer, e.g. shutting off the flood of irrelevant
 * neighbours that over-squashes a long-range signal. The gating is
 * `listen_i · broadcast_j` as spmm edge weights (see `gatedMessages`), with
 * `listen = p_S + p_L` and `broadcast = p_S + p_B` of the one-hot sample,
 * so gradients reach the action network through the straight-through
 * estimator. Training samples with seeded Gumbel noise (`ctx.nextSeed()`);
 * evaluation takes each node's most likely action. An encoder
 * `X W_enc + b` precedes the layers and a linear readout follows them.
 */
export function createCoGnnModel(
  inFeatures: number,
  outFeatures: number,
  options: CoGnnModelOptions = {},
): CoGnnModel {
  const hidden = options.hidden ?? 32;
  const layers = options.layers ?? 3;
  const temperature = options.temperature ?? 0.5;
  const aggregation = options.aggregation ?? 'sum';
  const residual = options.residual ?? true;
  checkPositive('cognn', 'inFeatures', inFeatures);
  checkPositive('cognn', 'outFeatures', outFeatures);
  checkPositive('cognn', 'hidden', hidden);
  checkPositive('cognn', 'layers', layers);
  if (!(temperature > 0))
    throw new GnnLayersError('cognn', `temperature must be > 0, got ${temperature}`);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('cognn');
  const wEnc = glorotUniform(rng, inFeatures, hidden, `${name}_w_enc`);
  const bEnc = zerosVariable(hidden, `${name}_b_enc`);
  const per: LayerVars[] = [];
  for (let l = 0; l < layers; l++) {
    per.push({
      actSelf: glorotUniform(rng, hidden, 4, `${name}_act_s_${l}`),
      actNeigh: glorotUniform(rng, hidden, 4, `${name}_act_n_${l}`),
      actBias: zerosVariable(4, `${name}_act_b_${l}`),
      envSelf: glorotUniform(rng, hidden, hidden, `${name}_env_s_${l}`),
      envNeigh: glorotUniform(rng, hidden, hidden, `${name}_env_n_${l}`),
      envBias: zerosVariable(hidden, `${name}_env_b_${l}`),
    });
  }
  const wOut = glorotUniform(rng, hidden, outFeatures, `${name}_w_out`);
  const bOut = zerosVariable(outFeatures, `${name}_b_out`);
  const variables = [
    wEnc,
    bEnc,
    ...per.flatMap((p) => [p.actSelf, p.actNeigh, p.actBias, p.envSelf, p.envNeigh, p.envBias]),
    wOut,
    bOut,
  ];
  // Columns of the one-hot action sample that mean "listens" / "broadcasts".
  const listenMask = tf.keep(tf.tensor2d([1, 1, 0, 0], [4, 1]));
  const broadcastMask = tf.keep(tf.tensor2d([1, 0, 1, 0], [4, 1]));

  function run(
    graph: CsrGraph,
    x: LayerInput,
    ctx: ApplyContext,
    record?: tf.Tensor2D[],
  ): tf.Tensor2D {
    checkLayerInput('cognn', graph, x, inFeatures);
    const mean = aggregationMatrix(graph, 'mean');
    let h = tf.add(project(x, wEnc), bEnc) as tf.Tensor2D;
    for (const p of per) {
      const logits = tf.add(
        tf.add(
          tf.matMul(h, p.actSelf as tf.Tensor2D),
          tf.matMul(spmm(mean, h), p.actNeigh as tf.Tensor2D),
        ),
        p.actBias,
      ) as tf.Tensor2D;
      const sample = gumbelSoftmax(logits, {
        temperature,
        seed: ctx.training ? ctx.nextSeed() : undefined,
      });
      record?.push(sample);
      const listen = tf.reshape(tf.matMul(sample, listenMask), [-1]) as tf.Tensor1D;
      const broadcast = tf.reshape(tf.matMul(sample, broadcastMask), [-1]) as tf.Tensor1D;
      // Transform first, so the gated spmm moves `hidden` columns.
      const msgs = gatedMessages(
        graph,
        tf.matMul(h, p.envNeigh as tf.Tensor2D) as tf.Tensor2D,
        listen,
        broadcast,
        aggregation,
      );
      const update = tf.relu(
        tf.add(tf.add(tf.matMul(h, p.envSelf as tf.Tensor2D), msgs), p.envBias),
      ) as tf.Tensor2D;
      h = residual ? (tf.add(h, update) as tf.Tensor2D) : update;
    }
    return tf.add(tf.matMul(h, wOut as tf.Tensor2D), bOut) as tf.Tensor2D;
  }

  return {
    specificationVersion: 'v1',
    kind: 'cognn',
    inFeatures,
    outFeatures,
    hidden,
    layers,
    variables,
    apply: (graph, x, ctx) => run(graph, x, ctx),
    actions(graph, x) {
      return tf.tidy(() => {
        const record: tf.Tensor2D[] = [];
        run(graph, x, { training: false, nextSeed: () => 0 }, record);
        return record.map((s) => tf.argMax(s, 1).dataSync() as Int32Array);
      });
    },
    dispose() {
      for (const v of variables) v.dispose();
      listenMask.dispose();
      broadcastMask.dispose();
    },
  };
}
