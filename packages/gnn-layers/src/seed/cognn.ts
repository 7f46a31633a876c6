import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from '../layers/check-input.js';
import { type LayerInput, project } from '../layers/input.js';
import type { ApplyContext, GnnLayerV1 } from '../layers/layer.js';
import {
  type CoGnnMpnnAggregation,
  createCoGnnLayerNorm,
  createCoGnnMpnn,
  createCoGnnTemperature,
} from './cognn-parts.js';
import { type GatedAggregation, gatedMessages } from './gated-messages.js';
import { gumbelSoftmax } from './gumbel.js';

/** Co-GNN's node actions; {@link CoGnnModel.actions} reports indices into this list. */
export const COGNN_ACTIONS = ['standard', 'listen', 'broadcast', 'isolate'] as const;
/** One of {@link COGNN_ACTIONS}. */
export type CoGnnAction = (typeof COGNN_ACTIONS)[number];

/** Options of {@link createCoGnnModel}; defaults follow the authors' code unless noted. */
export interface CoGnnModelOptions {
  /** Hidden width of the environment network (`env_dim`; default 32). */
  readonly hidden?: number;
  /** Environment layers (default 3); each samples fresh actions. */
  readonly layers?: number;
  /**
   * Environment aggregation over the arcs the actions leave open (default
   * `'degree-mean'`, the authors' MeanGNN; `'sum'` is their SumGNN).
   */
  readonly aggregation?: GatedAggregation;
  /** Layers of each action network (default 1). */
  readonly actionLayers?: number;
  /** Hidden width of the action networks when they have 2+ layers (default 16). */
  readonly actionHidden?: number;
  /** Aggregation of the action networks (default `'mean'`). */
  readonly actionAggregation?: CoGnnMpnnAggregation;
  /**
   * Gumbel-softmax temperature: `'learned'` (default here; the authors'
   * `--learn_temp`, a per-node τ = 1/(softplus(h w) + τ0)) or a fixed τ > 0
   * (their default without `--learn_temp` is 0.01).
   */
  readonly temperature?: 'learned' | number;
  /** τ0 of the learned temperature (default 0.5). */
  readonly tau0?: number;
  /**
   * Initial logit of "keep" over "drop" in both action networks (default 0,
   * as the authors). A positive value starts every node near STANDARD, that
   * is, Co-GNN starts as its environment MPNN and learns to deviate from it.
   */
  readonly actionBias?: number;
  /** Skip connection `h + ReLU(env(h))` around every layer (`--skip`; default true here). */
  readonly residual?: boolean;
  /** Shared layer norm before every layer and the readout (`--layer_norm`; default false, as the authors). */
  readonly layerNorm?: boolean;
  /** Dropout after the encoder and every environment layer while training (default 0; the authors' 0.2). */
  readonly dropout?: number;
  readonly seed?: number;
}

/** A Co-GNN; `actions` reports the deterministic (evaluation) actions per layer. */
export interface CoGnnModel extends GnnLayerV1 {
  readonly hidden: number;
  readonly layers: number;
  /** Action index (into {@link COGNN_ACTIONS}) of every node, per layer, without noise. */
  actions(graph: CsrGraph, x: LayerInput): Int32Array[];
}

/**
 * Co-GNN, "Cooperative Graph Neural Networks" (Finkelshtein, Huang, Bronstein
 * & Ceylan, ICML 2024), as the authors' code builds it. An encoder
 * `ReLU(X W + b)`, then per layer: optionally a layer norm (one, shared by all layers);
 * two action networks, each a small MPNN shared by all layers with 2 logits,
 * pick per node whether it listens (keeps incoming arcs) and whether it
 * broadcasts (keeps outgoing arcs) by straight-through Gumbel-softmax with a
 * learned per-node temperature; the four combinations are STANDARD, LISTEN,
 * BROADCAST and ISOLATE. The environment layer of that depth,
 * `h + ReLU(h W_s + AGG_{j -> i open} h_j W_n + b)`, passes messages on
 * the directed graph where arc `j -> i` is open when `i` listens and `j`
 * broadcasts (`gatedMessages`). A final layer norm and a linear readout
 * follow. Training samples with seeded Gumbel noise (`ctx.nextSeed()`);
 * evaluation takes each node's most likely action. Weights are Glorot and
 * biases zero (the authors keep PyTorch's uniform `±1/sqrt(fanIn)` for both,
 * which trained worse on bench/long-range.ts).
 */
export function createCoGnnModel(
  inFeatures: number,
  outFeatures: number,
  options: CoGnnModelOptions = {},
): CoGnnModel {
  const hidden = options.hidden ?? 32;
  const layers = options.layers ?? 3;
  const aggregation = options.aggregation ?? 'degree-mean';
  const actionLayers = options.actionLayers ?? 1;
  const actionHidden = options.actionHidden ?? 16;
  const temperature = options.temperature ?? 'learned';
  const tau0 = options.tau0 ?? 0.5;
  const residual = options.residual ?? true;
  const useLayerNorm = options.layerNorm ?? false;
  const dropout = options.dropout ?? 0;
  checkPositive('cognn', 'inFeatures', inFeatures);
  checkPositive('cognn', 'outFeatures', outFeatures);
  checkPositive('cognn', 'hidden', hidden);
  checkPositive('cognn', 'layers', layers);
  checkPositive('cognn', 'actionLayers', actionLayers);
  checkPositive('cognn', 'actionHidden', actionHidden);
  if (temperature !== 'learned' && !(temperature > 0))
    throw new GnnLayersError(
      'cognn',
      `temperature must be 'learned' or a number > 0, got ${String(temperature)}`,
    );
  if (!(tau0 > 0)) throw new GnnLayersError('cognn', `tau0 must be > 0, got ${tau0}`);
  if (!(dropout >= 0 && dropout < 1))
    throw new GnnLayersError('cognn', `dropout must be in [0, 1), got ${dropout}`);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('cognn');
  const wEnc = glorotUniform(rng, inFeatures, hidden, `${name}_w_enc`);
  const bEnc = zerosVariable(hidden, `${name}_b_enc`);
  const actionDims = [hidden, ...new Array<number>(actionLayers - 1).fill(actionHidden), 2];
  const actionAggregation = options.actionAggregation ?? 'mean';
  const actionBias = [options.actionBias ?? 0, 0];
  const listenNet = createCoGnnMpnn(
    rng,
    actionDims,
    actionAggregation,
    `${name}_act_in`,
    actionBias,
  );
  const broadcastNet = createCoGnnMpnn(
    rng,
    actionDims,
    actionAggregation,
    `${name}_act_out`,
    actionBias,
  );
  const tempNet =
    temperature === 'learned'
      ? createCoGnnTemperature(rng, hidden, tau0, `${name}_tau`)
      : undefined;
  const norm = useLayerNorm ? createCoGnnLayerNorm(hidden, `${name}_ln`) : undefined;
  const env = Array.from({ length: layers }, (_, l) => ({
    self: glorotUniform(rng, hidden, hidden, `${name}_env_s_${l}`),
    neigh: glorotUniform(rng, hidden, hidden, `${name}_env_n_${l}`),
    bias: zerosVariable(hidden, `${name}_env_b_${l}`),
  }));
  const wOut = glorotUniform(rng, hidden, outFeatures, `${name}_w_out`);
  const bOut = zerosVariable(outFeatures, `${name}_b_out`);
  const variables = [
    wEnc,
    bEnc,
    ...listenNet.variables,
    ...broadcastNet.variables,
    ...(tempNet?.variables ?? []),
    ...(norm?.variables ?? []),
    ...env.flatMap((p) => [p.self, p.neigh, p.bias]),
    wOut,
    bOut,
  ];
  const drop = (h: tf.Tensor2D, ctx: ApplyContext): tf.Tensor2D =>
    ctx.training && dropout > 0
      ? (tf.dropout(h, dropout, undefined, ctx.nextSeed()) as tf.Tensor2D)
      : h;

  /** Column 0 of a straight-through 2-way sample: 1 = keep (listen / broadcast). */
  function keep(logits: tf.Tensor2D, tau: number | tf.Tensor, ctx: ApplyContext): tf.Tensor1D {
    const sample = gumbelSoftmax(logits, {
      temperature: tau,
      seed: ctx.training ? ctx.nextSeed() : undefined,
    });
    return tf.reshape(tf.slice(sample, [0, 0], [-1, 1]), [-1]) as tf.Tensor1D;
  }

  function run(
    graph: CsrGraph,
    x: LayerInput,
    ctx: ApplyContext,
    record?: [tf.Tensor1D, tf.Tensor1D][],
  ): tf.Tensor2D {
    checkLayerInput('cognn', graph, x, inFeatures);
    let h = tf.relu(drop(tf.add(project(x, wEnc), bEnc) as tf.Tensor2D, ctx)) as tf.Tensor2D;
    for (const p of env) {
      if (norm !== undefined) h = norm.apply(h);
      const tau = tempNet === undefined ? (temperature as number) : tempNet.apply(h);
      const listen = keep(listenNet.apply(graph, h), tau, ctx);
      const broadcast = keep(broadcastNet.apply(graph, h), tau, ctx);
      record?.push([listen, broadcast]);
      // Transform first, so the gated spmm moves `hidden` columns.
      const msgs = gatedMessages(
        graph,
        tf.matMul(h, p.neigh as tf.Tensor2D) as tf.Tensor2D,
        listen,
        broadcast,
        aggregation,
      );
      const update = tf.relu(
        drop(tf.add(tf.add(tf.matMul(h, p.self as tf.Tensor2D), msgs), p.bias) as tf.Tensor2D, ctx),
      ) as tf.Tensor2D;
      h = residual ? (tf.add(h, update) as tf.Tensor2D) : update;
    }
    if (norm !== undefined) h = norm.apply(h);
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
        const record: [tf.Tensor1D, tf.Tensor1D][] = [];
        run(graph, x, { training: false, nextSeed: () => 0 }, record);
        return record.map(([listen, broadcast]) => {
          const l = listen.dataSync();
          const b = broadcast.dataSync();
          // standard 0, listen 1, broadcast 2, isolate 3 (COGNN_ACTIONS order).
          return Int32Array.from(l, (li, i) =>
            li > 0.5 ? (b[i]! > 0.5 ? 0 : 1) : b[i]! > 0.5 ? 2 : 3,
          );
        });
      });
    },
    dispose() {
      for (const v of variables) v.dispose();
    },
  };
}
