import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createGatConv,
  createGcnConv,
  createGinConv,
  createSageConv,
  featuresToInput,
  GnnLayersError,
  type GnnLayerV1,
} from '../src/index.js';
import {
  denseAdjacency,
  gatReference,
  gcnReference,
  ginReference,
  type Matrix,
  sageReference,
} from './dense-reference.js';

// A small directed multigraph with an isolated node, a hub and a duplicate arc.
const n = 7;
const src = [0, 1, 2, 3, 4, 5, 1, 1, 5, 2];
const dst = [1, 2, 0, 1, 1, 1, 3, 3, 4, 5];
const graph = CsrGraph.fromEdges(n, Int32Array.from(src), Int32Array.from(dst), {
  directed: true,
  dedupe: false,
});
const adjacency = denseAdjacency(n, src, dst);
const F = 5;

const rows = (t: tf.Tensor): Matrix => t.arraySync() as Matrix;
const vec = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const ctx = { training: false, nextSeed: () => 0 };

function randomizeBiases(layer: GnnLayerV1, rng: SeededRandom): void {
  for (const v of layer.variables)
    if (v.rank === 1) v.assign(tf.tensor1d(rng.fillUniform(new Float32Array(v.size), -1, 1)));
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`layers against dense references on ${backend}`, () => {
    const rng = new SeededRandom(3);
    const xData = rng.fillNormal(new Float32Array(n * F));
    beforeAll(async () => {
      await initBackend({ backend });
    });

    it('GCNConv', () => {
      const layer = createGcnConv(F, 3, { seed: 1 });
      randomizeBiases(layer, rng);
      const out = tf.tidy(() => layer.apply(graph, tf.tensor2d(xData, [n, F]), ctx));
      const [w, b] = layer.variables;
      expectArraysClose(
        out.dataSync(),
        gcnReference(adjacency, rows(tf.tensor2d(xData, [n, F])), rows(w!), vec(b!)).flat(),
        1e-4,
      );
      tf.dispose(out);
      layer.dispose();
    });

    it('SAGEConv (mean)', () => {
      const layer = createSageConv(F, 4, { seed: 2 });
      randomizeBiases(layer, rng);
      const out = tf.tidy(() => layer.apply(graph, tf.tensor2d(xData, [n, F]), ctx));
      const [ws, wn, b] = layer.variables;
      expectArraysClose(
        out.dataSync(),
        sageReference(
          adjacency,
          rows(tf.tensor2d(xData, [n, F])),
          rows(ws!),
          rows(wn!),
          vec(b!),
        ).flat(),
        1e-4,
      );
      tf.dispose(out);
      layer.dispose();
    });

    it('GINConv (trainable eps)', () => {
      const layer = createGinConv(F, 3, { hidden: 6, trainEps: true, seed: 3 });
      randomizeBiases(layer, rng);
      const [w1, b1, w2, b2, eps] = layer.variables;
      eps!.assign(tf.scalar(0.3));
      const out = tf.tidy(() => layer.apply(graph, tf.tensor2d(xData, [n, F]), ctx));
      const ref = ginReference(
        adjacency,
        rows(tf.tensor2d(xData, [n, F])),
        0.3,
        rows(w1!),
        vec(b1!),
        rows(w2!),
        vec(b2!),
      );
      expectArraysClose(out.dataSync(), ref.flat(), 1e-4);
      tf.dispose(out);
      layer.dispose();
    });

    for (const v2 of [false, true]) {
      for (const concat of [true, false]) {
        it(`${v2 ? 'GATv2Conv' : 'GATConv'} (3 heads, ${concat ? 'concat' : 'mean'})`, () => {
          const layer = createGatConv(F, 2, { heads: 3, concat, v2, seed: 4 });
          randomizeBiases(layer, rng);
          const vars = layer.variables.map(rows);
          const out = tf.tidy(() => layer.apply(graph, tf.tensor2d(xData, [n, F]), ctx));
          const x = rows(tf.tensor2d(xData, [n, F]));
          const b = vec(layer.variables.at(-1)!);
          const ref = v2
            ? gatReference(adjacency, x, {
                heads: 3,
                c: 2,
                concat,
                v2,
                slope: 0.2,
                w: vars[0]!,
                wDst: vars[1]!,
                attSrc: vars[2]!,
                b,
              })
            : gatReference(adjacency, x, {
                heads: 3,
                c: 2,
                concat,
                v2,
                slope: 0.2,
                w: vars[0]!,
                attSrc: vars[1]!,
                attDst: vars[2]!,
                b,
              });
          expectArraysClose(out.dataSync(), ref.flat(), 1e-4);
          tf.dispose(out);
          layer.dispose();
        });
      }
    }

    it('gradients of every layer match finite differences (input features)', () => {
      const layers = [
        createGcnConv(F, 3),
        createSageConv(F, 3),
        createGinConv(F, 3),
        createGatConv(F, 2, { heads: 2 }),
        createGatConv(F, 2, { heads: 2, v2: true }),
      ];
      for (const layer of layers) {
        const probe = rng.fillUniform(new Float32Array(n * layer.outFeatures), -1, 1);
        const loss = (x: tf.Tensor2D): tf.Scalar =>
          tf.sum(tf.mul(layer.apply(graph, x, ctx), tf.tensor2d(probe, [n, layer.outFeatures])));
        const g = tf.tidy(() =>
          tf
            .grad((x: tf.Tensor) => loss(x as tf.Tensor2D))(tf.tensor2d(xData, [n, F]))
            .dataSync(),
        );
        // float32 forward passes: a wide step and a loose tolerance.
        const fd = finiteDifferenceGradient(
          (x) => tf.tidy(() => loss(tf.tensor2d(x, [n, F])).dataSync()[0]!),
          xData,
          1e-2,
        );
        expectArraysClose(g, fd, 2e-2, `${layer.kind} input gradient`);
        layer.dispose();
      }
    });

    it('sparse feature rows give the same outputs and weight gradients as dense features', () => {
      const dense = new Float32Array(n * F);
      const r = new SeededRandom(9);
      for (let i = 0; i < dense.length; i++) if (r.uniform() < 0.4) dense[i] = r.uniform();
      const indptr = [0];
      const indices: number[] = [];
      const values: number[] = [];
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < F; j++) {
          if (dense[i * F + j] !== 0) {
            indices.push(j);
            values.push(dense[i * F + j]!);
          }
        }
        indptr.push(indices.length);
      }
      const sparseFeatures = {
        indptr: Int32Array.from(indptr),
        indices: Int32Array.from(indices),
        values: Float32Array.from(values),
        dim: F,
      };
      const sparse = featuresToInput(sparseFeatures, n, { rowNormalize: false });
      const denseInput = featuresToInput({ data: dense, dim: F }, n, { rowNormalize: false });
      for (const layer of [
        createGcnConv(F, 3),
        createSageConv(F, 3),
        createGinConv(F, 3),
        createGatConv(F, 2, { heads: 2 }),
      ]) {
        const gradsOf = (x: typeof sparse): Float32Array[] =>
          tf.tidy(() => {
            const { grads } = tf.variableGrads(
              () => tf.sum(tf.square(layer.apply(graph, x, ctx))),
              layer.variables as tf.Variable[],
            );
            return layer.variables.map((v) => grads[v.name]!.dataSync() as Float32Array);
          });
        const a = tf.tidy(() => layer.apply(graph, sparse, ctx).dataSync());
        const b = tf.tidy(() => layer.apply(graph, denseInput, ctx).dataSync());
        expectArraysClose(a, b, 1e-5, `${layer.kind} output`);
        const denseGrads = gradsOf(denseInput);
        gradsOf(sparse).forEach((g, i) => {
          expectArraysClose(g, denseGrads[i]!, 1e-4, `${layer.kind} gradient ${i}`);
        });
        layer.dispose();
      }
    });
  });
}

describe('bad input', () => {
  it('names the expected shape', async () => {
    await initBackend({ backend: 'cpu' });
    const layer = createGcnConv(F, 2);
    const wrong = tf.zeros([n, F + 1]) as tf.Tensor2D;
    expect(() => layer.apply(graph, wrong, ctx)).toThrow(
      /@plexus\/gnn-layers\/gcn: features must be \[7, 5\] \(numNodes, inFeatures\), got \[7, 6\]/,
    );
    expect(() => createGatConv(F, 0)).toThrow(GnnLayersError);
    wrong.dispose();
    layer.dispose();
  });
});
