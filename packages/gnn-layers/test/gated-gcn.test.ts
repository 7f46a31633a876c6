import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGatedGcn, type GatedGcn, GnnLayersError } from '../src/index.js';
import { type Affine, type Arc, gatedGcnReference, type Matrix } from './edge-reference.js';

// Directed multigraph with an isolated node and a duplicate arc, and an
// undirected triangle with a pendant node.
const directed = CsrGraph.fromEdges(
  6,
  Int32Array.from([0, 1, 2, 3, 1, 1]),
  Int32Array.from([1, 2, 0, 1, 3, 3]),
  { directed: true, dedupe: false },
);
const undirected = CsrGraph.fromEdges(
  4,
  Int32Array.from([0, 1, 2, 2]),
  Int32Array.from([1, 2, 0, 3]),
);
const F = 3;
const ctx = { training: false, nextSeed: () => 0 };
const rows = (t: tf.Tensor): Matrix => t.arraySync() as Matrix;

function arcsOf(graph: CsrGraph, e: Float32Array, dim: number): Arc[] {
  const arcs: Arc[] = [];
  for (let u = 0; u < graph.numNodes; u++) {
    for (let p = graph.indptr[u]!; p < graph.indptr[u + 1]!; p++) {
      const v = graph.indices[p]!;
      const row = Array.from(e.subarray(p * dim, (p + 1) * dim));
      arcs.push(
        graph.directed ? { source: u, target: v, e: row } : { source: v, target: u, e: row },
      );
    }
  }
  return arcs;
}

function params(layer: GatedGcn): { A: Affine; B: Affine; C: Affine; D: Affine; E: Affine } {
  const v = layer.variables;
  const at = (i: number): Affine => ({
    w: rows(v[2 * i]!),
    b: Array.from(v[2 * i + 1]!.dataSync()),
  });
  return { A: at(0), B: at(1), C: at(2), D: at(3), E: at(4) };
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`GatedGCN on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const [label, graph, residual, out, edgeDim] of [
      ['directed multigraph, residual', directed, true, F, F],
      ['undirected graph, no residual, other widths', undirected, false, 2, 4],
    ] as const) {
      it(`matches the dense reference on a ${label}, with finite-difference gradients`, () => {
        const rng = new SeededRandom(31);
        const N = graph.numNodes;
        const E = graph.numEdges;
        const xData = rng.fillNormal(new Float32Array(N * F));
        const eData = rng.fillNormal(new Float32Array(E * edgeDim));
        const layer = createGatedGcn(F, out, { edgeDim, residual, seed: 2 });
        for (const v of layer.variables)
          if (v.rank === 1) v.assign(tf.tensor1d(rng.fillUniform(new Float32Array(v.size), -1, 1)));
        const before = tf.memory().numTensors;
        const got = tf.tidy(() => {
          const r = layer.applyWithEdges(
            graph,
            tf.tensor2d(xData, [N, F]),
            tf.tensor2d(eData, [E, edgeDim]),
            ctx,
          );
          return { nodes: r.nodes.dataSync(), edges: r.edges.dataSync() };
        });
        const x = tf.tidy(() => rows(tf.tensor2d(xData, [N, F])));
        const ref = gatedGcnReference(
          x,
          arcsOf(graph, eData, edgeDim),
          params(layer),
          residual,
          1e-6,
        );
        expectArraysClose(got.nodes, ref.nodes.flat(), 1e-4, 'nodes');
        expectArraysClose(got.edges, ref.edges.flat(), 1e-4, 'edges');
        const nodesOnly = tf.tidy(() =>
          layer
            .apply(graph, tf.tensor2d(xData, [N, F]), tf.tensor2d(eData, [E, edgeDim]), ctx)
            .dataSync(),
        );
        expectArraysClose(nodesOnly, ref.nodes.flat(), 1e-4, 'apply');

        const pn = rng.fillUniform(new Float32Array(N * out), -1, 1);
        const pe = rng.fillUniform(new Float32Array(E * out), -1, 1);
        const loss = (xt: tf.Tensor2D, et: tf.Tensor2D): tf.Scalar => {
          const r = layer.applyWithEdges(graph, xt, et, ctx);
          return tf.add(
            tf.sum(tf.mul(r.nodes, tf.tensor2d(pn, [N, out]))),
            tf.sum(tf.mul(r.edges, tf.tensor2d(pe, [E, out]))),
          );
        };
        const [gx, ge] = tf.tidy(() =>
          tf
            .grads((xt: tf.Tensor, et: tf.Tensor) => loss(xt as tf.Tensor2D, et as tf.Tensor2D))([
              tf.tensor2d(xData, [N, F]),
              tf.tensor2d(eData, [E, edgeDim]),
            ])
            .map((g) => g.dataSync()),
        );
        const fdx = finiteDifferenceGradient(
          (v) =>
            tf.tidy(
              () => loss(tf.tensor2d(v, [N, F]), tf.tensor2d(eData, [E, edgeDim])).dataSync()[0]!,
            ),
          xData,
          1e-3,
        );
        const fde = finiteDifferenceGradient(
          (v) =>
            tf.tidy(
              () => loss(tf.tensor2d(xData, [N, F]), tf.tensor2d(v, [E, edgeDim])).dataSync()[0]!,
            ),
          eData,
          1e-3,
        );
        expectArraysClose(gx!, fdx, 2e-2, 'GatedGCN input gradient');
        expectArraysClose(ge!, fde, 2e-2, 'GatedGCN edge gradient');
        expect(tf.memory().numTensors).toBe(before);
        layer.dispose();
      });
    }
  });
}

describe('GatedGCN bad input', () => {
  it('names the expected shapes', async () => {
    await initBackend({ backend: 'cpu' });
    expect(() => createGatedGcn(3, 2)).toThrow(
      /gated-gcn: residual connections need inFeatures = edgeDim = outFeatures, got 3, 3, 2/,
    );
    const layer = createGatedGcn(F, F);
    const x = tf.zeros([4, F]) as tf.Tensor2D;
    const e = tf.zeros([8, 2]) as tf.Tensor2D;
    expect(() => layer.apply(undirected, x, e, ctx)).toThrow(GnnLayersError);
    expect(() => layer.apply(undirected, x, e, ctx)).toThrow(/\[8, 3\] \(numArcs in CSR order/);
    // apply() disposes the edge output it does not return; gradients still flow.
    const before = tf.memory().numTensors;
    const g = tf.tidy(() =>
      tf
        .grad((xt: tf.Tensor) =>
          tf.sum(layer.apply(undirected, xt as tf.Tensor2D, tf.ones([8, F]) as tf.Tensor2D, ctx)),
        )(tf.ones([4, F]))
        .dataSync(),
    );
    expect(g.every(Number.isFinite)).toBe(true);
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([x, e]);
    layer.dispose();
  });
});
