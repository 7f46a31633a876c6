import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGineConv, edgeArcs, GnnLayersError } from '../src/index.js';
import { type Arc, gineReference, type Matrix } from './edge-reference.js';

// The directed multigraph of the layer tests (isolated node 6, hub 1, duplicate
// arc 1 -> 3) and an undirected triangle with a pendant node.
const n = 7;
const directed = CsrGraph.fromEdges(
  n,
  Int32Array.from([0, 1, 2, 3, 4, 5, 1, 1, 5, 2]),
  Int32Array.from([1, 2, 0, 1, 1, 1, 3, 3, 4, 5]),
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
const vec = (t: tf.Tensor): number[] => Array.from(t.dataSync());

/** Arcs with their edge features, read from the CSR independently of `edgeArcs`. */
function arcsOf(graph: CsrGraph, e: Float32Array, dim: number): Arc[] {
  const arcs: Arc[] = [];
  for (let u = 0; u < graph.numNodes; u++) {
    for (let p = graph.indptr[u]!; p < graph.indptr[u + 1]!; p++) {
      const v = graph.indices[p]!;
      const row = Array.from(e.subarray(p * dim, (p + 1) * dim));
      // Directed: row u lists u -> v. Undirected: row u is the target.
      arcs.push(
        graph.directed ? { source: u, target: v, e: row } : { source: v, target: u, e: row },
      );
    }
  }
  return arcs;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`GINEConv on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const [label, graph] of [
      ['directed multigraph', directed],
      ['undirected graph', undirected],
    ] as const) {
      it(`matches the dense reference on a ${label}, with finite-difference gradients`, () => {
        const rng = new SeededRandom(21);
        const N = graph.numNodes;
        const E = graph.numEdges;
        const xData = rng.fillNormal(new Float32Array(N * F));
        const eData = rng.fillNormal(new Float32Array(E * F));
        const layer = createGineConv(F, 2, { hidden: 4, trainEps: true, seed: 7 });
        const [w1, b1, w2, b2, eps] = layer.variables;
        for (const b of [b1!, b2!])
          b.assign(tf.tensor1d(rng.fillUniform(new Float32Array(b.size), -1, 1)));
        eps!.assign(tf.scalar(0.25));
        const before = tf.memory().numTensors;
        const out = tf.tidy(() =>
          vec(layer.apply(graph, tf.tensor2d(xData, [N, F]), tf.tensor2d(eData, [E, F]), ctx)),
        );
        const x = tf.tidy(() => rows(tf.tensor2d(xData, [N, F])));
        const params = { w1: rows(w1!), b1: vec(b1!), w2: rows(w2!), b2: vec(b2!) };
        const ref = gineReference(x, arcsOf(graph, eData, F), 0.25, params);
        expectArraysClose(out, ref.flat(), 1e-4);

        const probe = rng.fillUniform(new Float32Array(N * 2), -1, 1);
        const loss = (xt: tf.Tensor2D, et: tf.Tensor2D): tf.Scalar =>
          tf.sum(tf.mul(layer.apply(graph, xt, et, ctx), tf.tensor2d(probe, [N, 2])));
        const [gx, ge] = tf.tidy(() =>
          tf
            .grads((xt: tf.Tensor, et: tf.Tensor) => loss(xt as tf.Tensor2D, et as tf.Tensor2D))([
              tf.tensor2d(xData, [N, F]),
              tf.tensor2d(eData, [E, F]),
            ])
            .map((g) => g.dataSync()),
        );
        const fdx = finiteDifferenceGradient(
          (v) =>
            tf.tidy(() => loss(tf.tensor2d(v, [N, F]), tf.tensor2d(eData, [E, F])).dataSync()[0]!),
          xData,
          1e-3,
        );
        const fde = finiteDifferenceGradient(
          (v) =>
            tf.tidy(() => loss(tf.tensor2d(xData, [N, F]), tf.tensor2d(v, [E, F])).dataSync()[0]!),
          eData,
          1e-3,
        );
        expectArraysClose(gx!, fdx, 2e-2, 'GINE input gradient');
        expectArraysClose(ge!, fde, 2e-2, 'GINE edge gradient');
        expect(tf.memory().numTensors).toBe(before);
        layer.dispose();
      });
    }

    it('projects edge features of another width (edgeDim)', () => {
      const layer = createGineConv(F, 2, { edgeDim: 5, seed: 3 });
      expect(layer.variables).toHaveLength(6);
      const E = undirected.numEdges;
      const out = tf.tidy(() =>
        layer.apply(
          undirected,
          tf.ones([4, F]) as tf.Tensor2D,
          tf.ones([E, 5]) as tf.Tensor2D,
          ctx,
        ),
      );
      expect(out.shape).toEqual([4, 2]);
      out.dispose();
      layer.dispose();
    });
  });
}

describe('GINEConv arc order and bad input', () => {
  it('edgeArcs: directed rows are sources, undirected rows are targets', () => {
    const d = edgeArcs(directed);
    expect(Array.from(d.source.subarray(0, 4))).toEqual([0, 1, 1, 1]);
    expect(Array.from(d.target.subarray(0, 4))).toEqual([1, 2, 3, 3]);
    const u = edgeArcs(undirected);
    expect(Array.from(u.target.subarray(0, 2))).toEqual([0, 0]);
  });

  it('names the expected edge shape', async () => {
    await initBackend({ backend: 'cpu' });
    const layer = createGineConv(F, 2);
    const x = tf.zeros([4, F]) as tf.Tensor2D;
    const e = tf.zeros([3, F]) as tf.Tensor2D;
    expect(() => layer.apply(undirected, x, e, ctx)).toThrow(
      /gine: edge features must be a float32 \[8, 3\] \(numArcs in CSR order, edgeDim\) tensor, got float32 \[3, 3\]/,
    );
    expect(() => createGineConv(F, 2, { edgeDim: 0 })).toThrow(GnnLayersError);
    tf.dispose([x, e]);
    layer.dispose();
  });
});
