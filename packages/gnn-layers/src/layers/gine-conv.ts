import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { glorotUniform, uniqueName, variableFrom, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from './check-input.js';
import { checkEdgeFeatures, edgeArcs } from './edge-arcs.js';
import type { ApplyContext } from './layer.js';

/** Options of {@link createGineConv}. */
export interface GineConvOptions {
  /** Hidden width of the two-layer MLP (default: `outFeatures`). */
  readonly hidden?: number;
  /**
   * Width of the edge features (default: `inFeatures`). When it differs, a
   * learned linear map brings edges to `inFeatures` first, as PyG's `edge_dim`.
   */
  readonly edgeDim?: number;
  /** Learn epsilon instead of fixing it at 0. */
  readonly trainEps?: boolean;
  readonly seed?: number;
}

/**
 * GINE layer ("Strategies for Pre-training Graph Neural Networks", Hu et al.,
 * 2020): GIN with edge features,
 * `h'_i = MLP((1 + ε) h_i + Σ_{j -> i} ReLU(h_j + e_ji))`.
 */
export interface GineConv {
  readonly specificationVersion: 'v1';
  readonly kind: 'gine';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly edgeDim: number;
  readonly variables: readonly tf.Variable[];
  /**
   * `x` is `[N, inFeatures]`; `edgeFeatures` is `[graph.numEdges, edgeDim]`, one
   * row per arc in the graph's own CSR order (see `edgeArcs`: for undirected
   * graphs row `u` is the target, for directed graphs `indices[p]` is).
   */
  apply(graph: CsrGraph, x: tf.Tensor2D, edgeFeatures: tf.Tensor2D, ctx: ApplyContext): tf.Tensor2D;
  dispose(): void;
}

/**
 * Create a GINE layer (Hu et al., 2020, "Strategies for Pre-training Graph
 * Neural Networks"). The ReLU acts on each message before the sum, so the
 * `[numArcs, inFeatures]` message tensor cannot be avoided by an spmm; it is a
 * gather by source plus a segment sum by target.
 */
export function createGineConv(
  inFeatures: number,
  outFeatures: number,
  options: GineConvOptions = {},
): GineConv {
  checkPositive('gine', 'inFeatures', inFeatures);
  checkPositive('gine', 'outFeatures', outFeatures);
  const hidden = options.hidden ?? outFeatures;
  checkPositive('gine', 'hidden', hidden);
  const edgeDim = options.edgeDim ?? inFeatures;
  checkPositive('gine', 'edgeDim', edgeDim);
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('gine');
  const w1 = glorotUniform(rng, inFeatures, hidden, `${name}_w1`);
  const b1 = zerosVariable(hidden, `${name}_b1`);
  const w2 = glorotUniform(rng, hidden, outFeatures, `${name}_w2`);
  const b2 = zerosVariable(outFeatures, `${name}_b2`);
  const eps = variableFrom(tf.scalar(0), `${name}_eps`, options.trainEps === true);
  const edgeLin =
    edgeDim === inFeatures
      ? undefined
      : {
          w: glorotUniform(rng, edgeDim, inFeatures, `${name}_we`),
          b: zerosVariable(inFeatures, `${name}_be`),
        };
  const variables = [
    w1,
    b1,
    w2,
    b2,
    ...(options.trainEps === true ? [eps] : []),
    ...(edgeLin === undefined ? [] : [edgeLin.w, edgeLin.b]),
  ];
  return {
    specificationVersion: 'v1',
    kind: 'gine',
    inFeatures,
    outFeatures,
    edgeDim,
    variables,
    apply(graph, x, edgeFeatures, _ctx) {
      checkLayerInput('gine', graph, x, inFeatures);
      checkEdgeFeatures('gine', graph, edgeFeatures, edgeDim);
      return tf.tidy(() => {
        const { source, target } = edgeArcs(graph);
        const e =
          edgeLin === undefined
            ? edgeFeatures
            : tf.add(tf.matMul(edgeFeatures, edgeLin.w as tf.Tensor2D), edgeLin.b);
        const messages = tf.relu(tf.add(tf.gather(x, tf.tensor1d(source, 'int32')), e));
        const agg = segmentSum(messages as tf.Tensor2D, target, graph.numNodes);
        const z = tf.add(tf.mul(tf.add(eps, 1), x), agg);
        const h = tf.relu(tf.add(tf.matMul(z, w1 as tf.Tensor2D), b1));
        return tf.add(tf.matMul(h, w2 as tf.Tensor2D), b2) as tf.Tensor2D;
      });
    },
    dispose() {
      for (const v of [w1, b1, w2, b2, eps]) v.dispose();
      edgeLin?.w.dispose();
      edgeLin?.b.dispose();
    },
  };
}
