/** The long-range experiment's models, built to a parameter budget. */
import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { createGatConv, createGcnConv, createGinConv, type GnnLayerV1 } from '../src/index.js';
import {
  type CoGnnModelOptions,
  createCoGnnModel,
  createDrewModel,
  createTideConv,
} from '../src/seed/index.js';

/** Models compared, MPNN baselines first. */
export const MODELS = ['gcn', 'gin', 'gat', 'drew', 'tide', 'cognn'] as const;
/** A model name of the experiment. */
export type ModelName = (typeof MODELS)[number];
/** A network from node features to per-node logits. */
export interface Net {
  readonly variables: readonly tf.Variable[];
  forward(graph: CsrGraph, x: tf.Tensor2D): tf.Tensor2D;
  dispose(): void;
}

const evalCtx = { training: false, nextSeed: () => 0 };

function linear(rng: SeededRandom, inF: number, outF: number): tf.Variable[] {
  const limit = Math.sqrt(6 / (inF + outF));
  const w = tf.tensor2d(rng.fillUniform(new Float32Array(inF * outF), -limit, limit), [inF, outF]);
  const b = tf.zeros([outF]);
  const vars = [tf.variable(w), tf.variable(b)];
  tf.dispose([w, b]);
  return vars;
}

/** L message-passing layers with ReLU, then a linear readout (the MPNN baselines). */
function stack(layers: GnnLayerV1[], readout: tf.Variable[]): Net {
  const [w, b] = readout as [tf.Variable, tf.Variable];
  return {
    variables: [...layers.flatMap((l) => l.variables), w, b],
    forward(graph, x) {
      let h = x;
      for (const layer of layers) h = tf.relu(layer.apply(graph, h, evalCtx));
      return tf.add(tf.matMul(h, w as tf.Tensor2D), b) as tf.Tensor2D;
    },
    dispose() {
      for (const l of layers) l.dispose();
      tf.dispose([w, b]);
    },
  };
}

function wrap(model: GnnLayerV1, training: { nextSeed: () => number }): Net {
  return {
    variables: model.variables,
    forward: (graph, x) => model.apply(graph, x, { training: trainingFlag.on, ...training }),
    dispose: () => model.dispose(),
  };
}

// COGNN_OPTS='{"temperature":0.5}' tries other Co-GNN options (ablations).
const cognnOverrides = JSON.parse(process.env.COGNN_OPTS ?? '{}') as CoGnnModelOptions;

// Co-GNN samples actions while training and takes argmax actions at evaluation.
export const trainingFlag = { on: false };

/** A fresh model; L message-passing layers except TIDE (always 2). */
export function build(
  name: ModelName,
  inF: number,
  outF: number,
  hidden: number,
  layers: number,
  seed: number,
): Net {
  const rng = new SeededRandom(seed + 100);
  let next = seed * 1000;
  const seeds = { nextSeed: () => next++ };
  const conv = (i: number, o: number, k: number): GnnLayerV1 =>
    name === 'gcn'
      ? createGcnConv(i, o, { seed: seed * 31 + k })
      : name === 'gin'
        ? createGinConv(i, o, { seed: seed * 31 + k })
        : createGatConv(i, Math.max(1, o / 2), { heads: 2, seed: seed * 31 + k });
  switch (name) {
    case 'gcn':
    case 'gin':
    case 'gat': {
      const h = name === 'gat' ? 2 * Math.max(1, hidden / 2) : hidden;
      const ls = Array.from({ length: layers }, (_, k) => conv(k === 0 ? inF : h, h, k));
      return stack(ls, linear(rng, h, outF));
    }
    case 'drew':
      return wrap(createDrewModel(inF, outF, { hidden, layers, nu: 1, seed }), seeds);
    case 'cognn':
      return wrap(
        createCoGnnModel(inF, outF, {
          hidden,
          layers,
          seed,
          aggregation: 'sum',
          actionBias: 5,
          ...cognnOverrides,
        }),
        seeds,
      );
    case 'tide': {
      // Two TIDE layers whatever the depth: the learnt times set the reach.
      const order = Math.max(8, 2 * layers + 4);
      const t1 = createTideConv(inF, hidden, { channels: hidden, order, seed });
      const t2 = createTideConv(hidden, hidden, { channels: hidden, order, seed: seed + 1 });
      return stack([t1, t2], linear(rng, hidden, outF));
    }
  }
}

/** Number of trainable parameters. */
export function paramCount(net: Net): number {
  return net.variables.reduce((s, v) => s + v.size, 0);
}

/** Hidden width (GAT: even) whose parameter count is closest to the budget. */
export function hiddenFor(
  name: ModelName,
  inF: number,
  outF: number,
  layers: number,
  budget: number,
): number {
  let best = { hidden: 2, gap: Number.POSITIVE_INFINITY, params: 0 };
  for (let hidden = 2; hidden <= 160; hidden += 2) {
    const net = build(name, inF, outF, hidden, layers, 0);
    const params = paramCount(net);
    net.dispose();
    const gap = Math.abs(params - budget);
    if (gap < best.gap) best = { hidden, gap, params };
    if (params > budget) break;
  }
  return best.hidden;
}
