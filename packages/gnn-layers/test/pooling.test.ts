import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createAttentionPool,
  GnnLayersError,
  globalMaxPool,
  globalMeanPool,
  globalSumPool,
} from '../src/index.js';
import { attentionPoolReference, type Matrix, poolReference } from './pooling-reference.js';

// Three small graphs batched block-diagonally (3, 1 and 4 nodes).
const parts = [
  CsrGraph.fromEdges(3, Int32Array.from([0, 1]), Int32Array.from([1, 2])),
  CsrGraph.fromEdges(1, new Int32Array(0), new Int32Array(0)),
  CsrGraph.fromEdges(4, Int32Array.from([0, 1, 2]), Int32Array.from([1, 2, 3])),
];
const { graph, graphIndex } = CsrGraph.batch(parts);
const n = graph.numNodes;
const G = parts.length;
const F = 3;
const rows = (t: tf.Tensor): Matrix => t.arraySync() as Matrix;

type Pool = (x: tf.Tensor2D, ids: Int32Array, g: number) => tf.Tensor2D;
const pools: [string, Pool, 'sum' | 'mean' | 'max'][] = [
  ['globalSumPool', globalSumPool, 'sum'],
  ['globalMeanPool', globalMeanPool, 'mean'],
  ['globalMaxPool', globalMaxPool, 'max'],
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`graph-level pooling on ${backend}`, () => {
    const rng = new SeededRandom(11);
    const xData = rng.fillNormal(new Float32Array(n * F));
    const probe = rng.fillUniform(new Float32Array(G * F), -1, 1);
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const [name, pool, reduce] of pools) {
      it(`${name} matches the dense reference, with finite-difference gradients`, () => {
        const before = tf.memory().numTensors;
        const out = tf.tidy(() => rows(pool(tf.tensor2d(xData, [n, F]), graphIndex, G)));
        const x = tf.tidy(() => rows(tf.tensor2d(xData, [n, F])));
        expectArraysClose(out.flat(), poolReference(x, graphIndex, G, reduce).flat(), 1e-5);
        const loss = (xt: tf.Tensor2D): tf.Scalar =>
          tf.sum(tf.mul(pool(xt, graphIndex, G), tf.tensor2d(probe, [G, F])));
        const g = tf.tidy(() =>
          tf
            .grad((xt: tf.Tensor) => loss(xt as tf.Tensor2D))(tf.tensor2d(xData, [n, F]))
            .dataSync(),
        );
        const fd = finiteDifferenceGradient(
          (v) => tf.tidy(() => loss(tf.tensor2d(v, [n, F])).dataSync()[0]!),
          xData,
          1e-3,
        );
        expectArraysClose(g, fd, 1e-2, `${name} gradient`);
        expect(tf.memory().numTensors).toBe(before);
      });
    }

    it('globalMeanPool gives zeros for a graph with no nodes', () => {
      const ids = Int32Array.from([0, 0, 2]);
      const out = tf.tidy(() =>
        rows(globalMeanPool(tf.tensor2d([1, 2, 3, 4, 5, 6], [3, 2]), ids, 3)),
      );
      expect(out).toEqual([
        [2, 3],
        [0, 0],
        [5, 6],
      ]);
    });

    it('createAttentionPool matches the dense reference, with finite-difference gradients', () => {
      const pool = createAttentionPool(F, { seed: 5 });
      const [w, b] = pool.variables;
      b!.assign(tf.tensor1d([0.4]));
      const before = tf.memory().numTensors;
      const out = tf.tidy(() => rows(pool.apply(tf.tensor2d(xData, [n, F]), graphIndex, G)));
      const x = tf.tidy(() => rows(tf.tensor2d(xData, [n, F])));
      const wv = Array.from(w!.dataSync());
      const ref = attentionPoolReference(x, graphIndex, G, wv, 0.4);
      expectArraysClose(out.flat(), ref.flat(), 1e-5);
      const alpha = tf.tidy(() =>
        Array.from(pool.weights(tf.tensor2d(xData, [n, F]), graphIndex, G).dataSync()),
      );
      expect(alpha[3]).toBeCloseTo(1, 6); // the one-node graph puts all weight on its node
      const loss = (xt: tf.Tensor2D): tf.Scalar =>
        tf.sum(tf.mul(pool.apply(xt, graphIndex, G), tf.tensor2d(probe, [G, F])));
      const g = tf.tidy(() =>
        tf
          .grad((xt: tf.Tensor) => loss(xt as tf.Tensor2D))(tf.tensor2d(xData, [n, F]))
          .dataSync(),
      );
      const fd = finiteDifferenceGradient(
        (v) => tf.tidy(() => loss(tf.tensor2d(v, [n, F])).dataSync()[0]!),
        xData,
        1e-2,
      );
      expectArraysClose(g, fd, 2e-2, 'attention pool input gradient');
      // Gradient of the gate weights, against finite differences of the reference.
      const gw = tf.tidy(() => {
        const { grads } = tf.variableGrads(() => loss(tf.tensor2d(xData, [n, F])), [w!]);
        return Array.from(grads[w!.name]!.dataSync());
      });
      const refLoss = (wt: Float32Array): number =>
        attentionPoolReference(x, graphIndex, G, Array.from(wt), 0.4)
          .flat()
          .reduce((a, v, i) => a + v * probe[i]!, 0);
      const fdw = finiteDifferenceGradient(refLoss, Float32Array.from(wv), 1e-3);
      expectArraysClose(gw, fdw, 1e-3, 'attention pool gate gradient');
      expect(tf.memory().numTensors).toBe(before);
      pool.dispose();
    });
  });
}

describe('pooling bad input', () => {
  it('names the expected shapes', async () => {
    await initBackend({ backend: 'cpu' });
    const x = tf.zeros([4, 2]) as tf.Tensor2D;
    expect(() => globalSumPool(x, new Int32Array(3), 1)).toThrow(
      /global-sum-pool: graphIndex must be an Int32Array of length 4 \(numNodes\), got length 3/,
    );
    expect(() => globalMaxPool(x, new Int32Array(4), 0)).toThrow(GnnLayersError);
    const pool = createAttentionPool(3);
    expect(() => pool.apply(x, new Int32Array(4), 1)).toThrow(
      /attention-pool: features must be \[numNodes, 3\] \(numNodes, inFeatures\), got \[4, 2\]/,
    );
    pool.dispose();
    x.dispose();
  });
});
