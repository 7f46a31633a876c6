import type { CsrGraph } from '@plexus/graph-core';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { createGatConv } from '../layers/gat-conv.js';
import { createGcnConv } from '../layers/gcn-conv.js';
import { createGinConv } from '../layers/gin-conv.js';
import { dropoutInput, type LayerInput } from '../layers/input.js';
import type { ApplyContext, GnnLayerV1 } from '../layers/layer.js';
import { createSageConv } from '../layers/sage-conv.js';
import { createCoGnnModel } from '../seed/cognn.js';
import { createDrewModel } from '../seed/drew.js';
import { createTideConv } from '../seed/tide-conv.js';

/** Models `createNodeClassifier` builds. */
export const NODE_MODELS = ['gcn', 'sage', 'gin', 'gat', 'gatv2', 'tide', 'drew', 'cognn'] as const;
/** A model name accepted by {@link createNodeClassifier}. */
export type NodeModelName = (typeof NODE_MODELS)[number];

/** Hyper-parameters of a two-layer node classifier and its training. */
export interface NodeClassifierConfig {
  readonly hidden: number;
  readonly heads: number;
  readonly dropout: number;
  readonly attentionDropout: number;
  readonly learningRate: number;
  readonly weightDecay: number;
  /** Apply weight decay to the first layer only (Kipf & Welling's GCN does). */
  readonly decayFirstLayerOnly: boolean;
  readonly epochs: number;
  readonly patience: number;
}

/** GCN's optimiser budget (Kipf & Welling 2017), shared by the models without Cora settings of their own. */
const gcnBudget = (hidden: number, decayFirstLayerOnly = false): NodeClassifierConfig => ({
  hidden,
  heads: 1,
  dropout: 0.5,
  attentionDropout: 0,
  learningRate: 0.01,
  weightDecay: 5e-4,
  decayFirstLayerOnly,
  epochs: 200,
  patience: 200,
});

/** GAT's settings (Veličković et al. 2018): 8 heads × 8, dropout 0.6 on inputs and attention. */
const GAT_CONFIG: NodeClassifierConfig = {
  hidden: 8,
  heads: 8,
  dropout: 0.6,
  attentionDropout: 0.6,
  learningRate: 0.005,
  weightDecay: 5e-4,
  decayFirstLayerOnly: false,
  epochs: 1000,
  patience: 100,
};

/**
 * The papers' Cora settings: GCN (Kipf & Welling 2017: 16 hidden, dropout
 * 0.5, lr 0.01, L2 5e-4 on the first layer, 200 epochs) and GAT (Veličković
 * et al. 2018: 8 heads × 8, dropout 0.6 on inputs and attention, lr 0.005, L2
 * 5e-4, patience 100). GraphSAGE, GIN and the seed-paper models (which give
 * no Cora settings) use GCN's budget.
 */
export const PAPER_CONFIGS: Record<NodeModelName, NodeClassifierConfig> = {
  gcn: gcnBudget(16, true),
  sage: gcnBudget(16),
  gin: gcnBudget(16),
  gat: GAT_CONFIG,
  gatv2: GAT_CONFIG,
  tide: gcnBudget(16),
  drew: gcnBudget(64),
  cognn: gcnBudget(64),
};

/**
 * A node classifier: two message-passing layers with a nonlinearity and
 * dropout between them, or (DRew, Co-GNN) one multi-layer model.
 */
export interface NodeClassifier {
  readonly name: NodeModelName;
  readonly config: NodeClassifierConfig;
  readonly layers: readonly GnnLayerV1[];
  /** Variables the weight decay applies to. */
  readonly decayed: readonly tf.Variable[];
  readonly variables: readonly tf.Variable[];
  /** Class logits `[N, numClasses]`. */
  forward(graph: CsrGraph, x: LayerInput, ctx: ApplyContext): tf.Tensor2D;
  dispose(): void;
}

/** Build a paper-configured two-layer classifier; `overrides` change any hyper-parameter. */
export function createNodeClassifier(
  name: NodeModelName,
  inFeatures: number,
  numClasses: number,
  seed: number,
  overrides: Partial<NodeClassifierConfig> = {},
): NodeClassifier {
  if (!(NODE_MODELS as readonly string[]).includes(name)) {
    throw new GnnLayersError(
      'node-classifier',
      `unknown model '${name}'; accepted: ${NODE_MODELS.join(', ')}`,
    );
  }
  const config = { ...PAPER_CONFIGS[name], ...overrides };
  const { hidden, heads } = config;
  if (name === 'drew' || name === 'cognn') {
    const model =
      name === 'drew'
        ? createDrewModel(inFeatures, numClasses, { hidden, layers: 2, seed })
        : createCoGnnModel(inFeatures, numClasses, { hidden, layers: 2, seed });
    return {
      name,
      config,
      layers: [model],
      decayed: model.variables.filter((v) => v.rank === 2),
      variables: model.variables,
      forward: (graph, x, ctx) =>
        model.apply(
          graph,
          ctx.training && config.dropout > 0 ? dropoutInput(x, config.dropout, ctx.nextSeed()) : x,
          ctx,
        ),
      dispose: () => model.dispose(),
    };
  }
  let first: GnnLayerV1;
  let second: GnnLayerV1;
  if (name === 'gat' || name === 'gatv2') {
    const v2 = name === 'gatv2';
    first = createGatConv(inFeatures, hidden, {
      heads,
      attentionDropout: config.attentionDropout,
      v2,
      seed,
    });
    second = createGatConv(hidden * heads, numClasses, {
      heads: 1,
      concat: false,
      attentionDropout: config.attentionDropout,
      v2,
      seed: seed + 1,
    });
  } else if (name === 'tide') {
    first = createTideConv(inFeatures, hidden, { seed });
    second = createTideConv(hidden, numClasses, { seed: seed + 1 });
  } else {
    const make = name === 'gcn' ? createGcnConv : name === 'sage' ? createSageConv : createGinConv;
    first = make(inFeatures, hidden, { seed });
    second = make(hidden, numClasses, { seed: seed + 1 });
  }
  const activation = name === 'gat' || name === 'gatv2' ? tf.elu : tf.relu;
  const dropout = <T extends LayerInput>(t: T, ctx: ApplyContext): T =>
    ctx.training && config.dropout > 0 ? (dropoutInput(t, config.dropout, ctx.nextSeed()) as T) : t;
  const variables = [...first.variables, ...second.variables];
  // Weight matrices only: biases (rank 1) are not decayed.
  const decayed = (config.decayFirstLayerOnly ? first.variables : variables).filter(
    (v) => v.rank === 2,
  );
  return {
    name,
    config,
    layers: [first, second],
    decayed,
    variables,
    forward(graph, x, ctx) {
      const h = activation(first.apply(graph, dropout(x, ctx), ctx)) as tf.Tensor2D;
      return second.apply(graph, dropout(h, ctx), ctx);
    },
    dispose() {
      first.dispose();
      second.dispose();
    },
  };
}
