import type { CsrGraph } from '@plexus/graph-core';
import { SeededRandom, segmentSum } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { GnnLayersError } from '../errors.js';
import { glorotUniform, uniqueName, zerosVariable } from '../init.js';
import { checkLayerInput, checkPositive } from './check-input.js';
import { checkEdgeFeatures, edgeArcs } from './edge-arcs.js';
import type { ApplyContext } from './layer.js';

/** Options of {@link createGatedGcn}. */
export interface GatedGcnOptions {
  /** Width of the edge features (default: `inFeatures`). */
  readonly edgeDim?: number;
  /** Add the input to the output, for nodes and edges (default true; needs equal widths). */
  readonly residual?: boolean;
  /** Keeps the gate normalisation finite at nodes whose gates are all ~0 (default 1e-6). */
  readonly epsilon?: number;
  readonly seed?: number;
}

/** Node and edge outputs of {@link GatedGcn}. */
export interface GatedGcnOutput {
  /** `[N, outFeatures]` */
  readonly nodes: tf.Tensor2D;
  /** `[numArcs, outFeatures]`, in the same CSR arc order as the input edges. */
  readonly edges: tf.Tensor2D;
}

/**
 * Residual gated graph convnet layer ("Residual Gated Graph ConvNets",
 * Bresson & Laurent, 2017) in the edge-gated form of "Benchmarking Graph
 * Neural Networks" (Dwivedi et al., 2020), without batch norm or dropout:
 *
 * - `ê_ij = C e_ij + D h_i + E h_j` (i the target, j the source),
 * - `η_ij = σ(ê_ij) / (Σ_{j'} σ(ê_ij') + ε)`,
 * - `h'_i = h_i + ReLU(A h_i + Σ_j η_ij ⊙ B h_j)`, `e'_ij = e_ij + ReLU(ê_ij)`.
 */
export interface GatedGcn {
  readonly specificationVersion: 'v1';
  readonly kind: 'gated-gcn';
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly edgeDim: number;
  /** `[A, bA, B, bB, C, bC, D, bD, E, bE]`, for an optimiser. */
  readonly variables: readonly tf.Variable[];
  /** Updated node features; edge features are `[graph.numEdges, edgeDim]` in CSR arc order (see `edgeArcs`). */
  apply(graph: CsrGraph, x: tf.Tensor2D, edgeFeatures: tf.Tensor2D, ctx: ApplyContext): tf.Tensor2D;
  /** Updated node and edge features, for stacking layers that carry edge state. */
  applyWithEdges(
    graph: CsrGraph,
    x: tf.Tensor2D,
    edgeFeatures: tf.Tensor2D,
    ctx: ApplyContext,
  ): GatedGcnOutput;
  dispose(): void;
}

/**
 * Create a GatedGCN layer (Bresson & Laurent, 2017, "Residual Gated Graph
 * ConvNets"; edge gates as in Dwivedi et al., 2020). Gates are per arc and per
 * channel, so `[numArcs, outFeatures]` tensors are inherent; they are gathered
 * by arc endpoints and summed by target.
 */
export function createGatedGcn(
  inFeatures: number,
  outFeatures: number,
  options: GatedGcnOptions = {},
): GatedGcn {
  checkPositive('gated-gcn', 'inFeatures', inFeatures);
  checkPositive('gated-gcn', 'outFeatures', outFeatures);
  const edgeDim = options.edgeDim ?? inFeatures;
  checkPositive('gated-gcn', 'edgeDim', edgeDim);
  const residual = options.residual ?? true;
  if (residual && (inFeatures !== outFeatures || edgeDim !== outFeatures)) {
    throw new GnnLayersError(
      'gated-gcn',
      `residual connections need inFeatures = edgeDim = outFeatures, got ${inFeatures}, ${edgeDim}, ${outFeatures}; pass residual: false`,
    );
  }
  const epsilon = options.epsilon ?? 1e-6;
  const rng = new SeededRandom(options.seed ?? 0);
  const name = uniqueName('gated_gcn');
  const linear = (fanIn: number, key: string) => ({
    w: glorotUniform(rng, fanIn, outFeatures, `${name}_${key}`),
    b: zerosVariable(outFeatures, `${name}_b${key}`),
  });
  const A = linear(inFeatures, 'A');
  const B = linear(inFeatures, 'B');
  const C = linear(edgeDim, 'C');
  const D = linear(inFeatures, 'D');
  const E = linear(inFeatures, 'E');
  const all = [A, B, C, D, E];
  const lin = (x: tf.Tensor2D, l: { w: tf.Variable; b: tf.Variable }): tf.Tensor2D =>
    tf.add(tf.matMul(x, l.w as tf.Tensor2D), l.b);

  const applyWithEdges = (
    graph: CsrGraph,
    x: tf.Tensor2D,
    edgeFeatures: tf.Tensor2D,
  ): GatedGcnOutput => {
    checkLayerInput('gated-gcn', graph, x, inFeatures);
    checkEdgeFeatures('gated-gcn', graph, edgeFeatures, edgeDim);
    const [nodes, edges] = tf.tidy(() => {
      const arcs = edgeArcs(graph);
      const source = tf.tensor1d(arcs.source, 'int32');
      const target = tf.tensor1d(arcs.target, 'int32');
      const eHat = tf.add(
        lin(edgeFeatures, C),
        tf.add(tf.gather(lin(x, D), target), tf.gather(lin(x, E), source)),
      ) as tf.Tensor2D;
      const gate = tf.sigmoid(eHat) as tf.Tensor2D;
      const num = segmentSum(
        tf.mul(gate, tf.gather(lin(x, B), source)) as tf.Tensor2D,
        arcs.target,
        graph.numNodes,
      );
      const den = segmentSum(gate, arcs.target, graph.numNodes);
      const h = tf.relu(tf.add(lin(x, A), tf.div(num, tf.add(den, epsilon))));
      const e = tf.relu(eHat);
      return residual ? [tf.add(x, h), tf.add(edgeFeatures, e)] : [h, e];
    }) as [tf.Tensor2D, tf.Tensor2D];
    return { nodes, edges };
  };

  return {
    specificationVersion: 'v1',
    kind: 'gated-gcn',
    inFeatures,
    outFeatures,
    edgeDim,
    variables: all.flatMap((l) => [l.w, l.b]),
    apply(graph, x, edgeFeatures, _ctx) {
      const { nodes, edges } = applyWithEdges(graph, x, edgeFeatures);
      edges.dispose();
      return nodes;
    },
    applyWithEdges: (graph, x, edgeFeatures, _ctx) => applyWithEdges(graph, x, edgeFeatures),
    dispose() {
      for (const l of all) {
        l.w.dispose();
        l.b.dispose();
      }
    },
  };
}
