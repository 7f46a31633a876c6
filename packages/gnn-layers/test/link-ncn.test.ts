import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom, spmm } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  commonNeighbourMatrix,
  completionMatrices,
  createGcnConv,
  createNcnPredictor,
  disposeGraphOperators,
  dotProductScores,
  GnnLayersError,
  hitsAtK,
  linkAuc,
  prepareLinkTargets,
} from '../src/index.js';

// A small graph: 0-1, 0-2, 0-3, 1-2, 1-3, 2-4, 3-4, 4-5.
const N = 6;
const graph = CsrGraph.fromEdges(N, [0, 0, 0, 1, 1, 2, 3, 4], [1, 2, 3, 2, 3, 4, 4, 5]);
const pairs = { src: Int32Array.from([0, 1, 2, 0, 5]), dst: Int32Array.from([4, 0, 3, 5, 5]) };
const D = 3;

const nb = (u: number): Set<number> => new Set(graph.neighbours(u));

/** Plain-JS `Σ_{k ∈ N(i) ∩ N(j)} h_k`. */
function referenceCnSum(h: Float32Array): Float32Array {
  const out = new Float32Array(pairs.src.length * D);
  for (let p = 0; p < pairs.src.length; p++) {
    const a = nb(pairs.src[p]!);
    for (const k of nb(pairs.dst[p]!)) {
      if (!a.has(k)) continue;
      for (let f = 0; f < D; f++) out[p * D + f]! += h[k * D + f]!;
    }
  }
  return out;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`NCN / NCNC on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    it('sums common neighbours like a plain-JS reference', () => {
      const h = new SeededRandom(2).fillNormal(new Float32Array(N * D));
      const cn = commonNeighbourMatrix(graph, pairs);
      const before = tf.memory().numTensors;
      const sum = tf.tidy(() => spmm(cn, tf.tensor2d(h, [N, D])).dataSync());
      expectArraysClose(sum, referenceCnSum(h), 1e-5);
      cn.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it('finds the completion candidates N(j)\\N(i) and N(i)\\N(j)', () => {
      const c = completionMatrices(graph, pairs);
      for (let p = 0; p < pairs.src.length; p++) {
        const i = pairs.src[p]!;
        const j = pairs.dst[p]!;
        const row = (m: typeof c.fromDst.matrix): number[] =>
          Array.from(m.indices.subarray(m.indptr[p]!, m.indptr[p + 1]!));
        const fromDst = [...nb(j)].filter((k) => !nb(i).has(k) && k !== i && k !== j);
        const fromSrc = [...nb(i)].filter((k) => !nb(j).has(k) && k !== i && k !== j);
        expect(row(c.fromDst.matrix)).toEqual(fromDst.sort((a, b) => a - b));
        expect(row(c.fromSrc.matrix)).toEqual(fromSrc.sort((a, b) => a - b));
      }
      const q = c.fromDst.queries;
      for (let e = 0; e < q.src.length; e++) expect(q.dst[e]).toBe(c.fromDst.matrix.indices[e]);
      c.fromDst.matrix.dispose();
      c.fromSrc.matrix.dispose();
    });

    for (const variant of ['ncn', 'ncnc'] as const) {
      it(`${variant}: gradients reach encoder and scorer (finite differences), no leaks`, () => {
        const start = tf.memory().numTensors;
        const rng = new SeededRandom(9);
        const xData = rng.fillNormal(new Float32Array(N * 2));
        const encoder = createGcnConv(2, D, { seed: 1 });
        const predictor = createNcnPredictor({ inFeatures: D, hidden: 4, variant, seed: 3 });
        const targets = prepareLinkTargets(graph, pairs, variant === 'ncnc');
        const labels = [1, 1, 0, 0, 1];
        const ctx = { training: false, nextSeed: () => 0 };
        const loss = (): tf.Scalar =>
          tf.tidy(() => {
            const h = encoder.apply(graph, tf.tensor2d(xData, [N, 2]), ctx);
            const logits = predictor.score(h, targets);
            return tf.losses.sigmoidCrossEntropy(tf.tensor1d(labels), logits) as tf.Scalar;
          });
        const vars = [encoder.variables[0]!, predictor.variables[0]!, predictor.variables[2]!];
        const { grads, value } = tf.variableGrads(loss, vars);
        value.dispose();
        for (const v of vars) {
          const g = grads[v.name]!.dataSync();
          const orig = Float32Array.from(v.dataSync());
          const f = (flat: Float32Array): number => {
            const t = tf.tensor(flat, v.shape);
            v.assign(t);
            t.dispose();
            const l = loss();
            const out = l.dataSync()[0]!;
            l.dispose();
            return out;
          };
          const fd = finiteDifferenceGradient(f, orig, 1e-2);
          const t = tf.tensor(orig, v.shape);
          v.assign(t);
          t.dispose();
          expect(Math.max(...Array.from(g, Math.abs))).toBeGreaterThan(0);
          expectArraysClose(g, fd, 2e-2);
        }
        for (const g of Object.values(grads)) g.dispose();
        targets.dispose();
        encoder.dispose();
        predictor.dispose();
        disposeGraphOperators(graph);
        expect(tf.memory().numTensors).toBe(start);
      });
    }

    it('dot-product scores and errors', () => {
      const h = tf.tensor2d([1, 0, 0, 1, 1, 1], [3, 2]);
      const s = dotProductScores(h, { src: Int32Array.from([0, 2]), dst: Int32Array.from([1, 2]) });
      expectArraysClose(s.dataSync(), [0, 2], 1e-6);
      s.dispose();
      h.dispose();
      const p = createNcnPredictor({ inFeatures: D, variant: 'ncnc' });
      const t = prepareLinkTargets(graph, pairs);
      expect(() => tf.tidy(() => p.score(tf.zeros([N, D]), t))).toThrow(/completion/);
      expect(() => tf.tidy(() => p.score(tf.zeros([N, 2]), t))).toThrow(GnnLayersError);
      t.dispose();
      p.dispose();
      expect(() =>
        commonNeighbourMatrix(graph, { src: Int32Array.from([9]), dst: Int32Array.from([0]) }),
      ).toThrow(GnnLayersError);
    });
  });
}

describe('link metrics', () => {
  it('AUC and Hits@K', () => {
    expect(linkAuc([3, 4], [1, 2])).toBe(1);
    expect(linkAuc([1, 3], [2, 2])).toBe(0.5);
    expect(linkAuc([1], [1])).toBe(0.5);
    expect(hitsAtK([5, 3, 1], [4, 2, 0], 1)).toBeCloseTo(1 / 3);
    expect(hitsAtK([5, 3, 1], [4, 2, 0], 2)).toBeCloseTo(2 / 3);
    expect(hitsAtK([5], [4], 3)).toBe(1);
  });
});
