import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GnnLayersError } from '../src/index.js';
import { createDrewModel, ringOperators } from '../src/seed/index.js';
import { denseAdjacency, type Matrix } from './dense-reference.js';
import { drewReference, pathDistances } from './seed-reference.js';

const n = 8;
// Directed: a chain 0 -> 1 -> ... -> 5 with a shortcut 1 -> 4, a duplicate arc
// and a back arc, so rings differ from plain hop counts along the chain.
const dirSrc = [0, 1, 2, 3, 4, 1, 1, 5, 6];
const dirDst = [1, 2, 3, 4, 5, 4, 4, 0, 5];
const directed = CsrGraph.fromEdges(n, Int32Array.from(dirSrc), Int32Array.from(dirDst), {
  directed: true,
  dedupe: false,
});
// Undirected: a 6-cycle with a pendant node and an isolated node.
const undSrc = [0, 1, 2, 3, 4, 5, 3];
const undDst = [1, 2, 3, 4, 5, 0, 6];
const undirected = CsrGraph.fromEdges(n, Int32Array.from(undSrc), Int32Array.from(undDst));
const F = 3;
const H = 4;
const OUT = 2;
const L = 4;
const ctx = { training: false, nextSeed: () => 0 };
const rows = (t: tf.Tensor): Matrix => t.arraySync() as Matrix;
const vec = (t: tf.Tensor): number[] => Array.from(t.dataSync());

const cases = [
  { name: 'directed', graph: directed, adj: denseAdjacency(n, dirSrc, dirDst) },
  {
    name: 'undirected',
    graph: undirected,
    adj: denseAdjacency(n, [...undSrc, ...undDst], [...undDst, ...undSrc]),
  },
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`DRew on ${backend}`, () => {
    const rng = new SeededRandom(5);
    const xData = rng.fillNormal(new Float32Array(n * F));
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const { name, graph, adj } of cases) {
      it(`k-hop rings match all-pairs distances (${name})`, () => {
        const dist = pathDistances(adj);
        const rings = ringOperators(graph, 5, 'sum');
        rings.forEach((m, km1) => {
          for (let i = 0; i < n; i++) {
            const got = Array.from(m.indices.subarray(m.indptr[i]!, m.indptr[i + 1]!));
            const expected = dist[i]!.flatMap((d, j) => (d === km1 + 1 ? [j] : []));
            expect(got).toEqual(expected);
          }
        });
      });

      for (const nu of [1, 2, Number.POSITIVE_INFINITY]) {
        it(`matches the dense reference (${name}, nu = ${nu})`, () => {
          const model = createDrewModel(F, OUT, { hidden: H, layers: L, nu, seed: 3 });
          // Random biases, so every term of the equation is exercised.
          for (const v of model.variables)
            if (v.rank === 1)
              v.assign(tf.tensor1d(rng.fillUniform(new Float32Array(v.size), -0.5, 0.5)));
          const vars = model.variables;
          let at = 2;
          const hop: Matrix[][] = [];
          const bias: number[][] = [];
          for (let l = 0; l < L; l++) {
            hop.push(vars.slice(at, at + l + 2).map(rows));
            at += l + 2;
            bias.push(vec(vars[at++]!));
          }
          const out = tf.tidy(() => model.apply(graph, tf.tensor2d(xData, [n, F]), ctx));
          const ref = drewReference(adj, rows(tf.tidy(() => tf.tensor2d(xData, [n, F]))), nu, {
            wEnc: rows(vars[0]!),
            bEnc: vec(vars[1]!),
            hop,
            bias,
            wOut: rows(vars[at]!),
            bOut: vec(vars[at + 1]!),
          });
          expectArraysClose(out.dataSync(), ref.flat(), 1e-4, 'drew output');
          out.dispose();
          model.dispose();
        });
      }
    }

    it('input gradients match finite differences and nothing leaks', () => {
      const model = createDrewModel(F, OUT, { hidden: H, layers: 3, nu: 1, seed: 4 });
      const probe = rng.fillUniform(new Float32Array(n * OUT), -1, 1);
      const loss = (x: tf.Tensor2D): tf.Scalar =>
        tf.sum(tf.mul(model.apply(directed, x, ctx), tf.tensor2d(probe, [n, OUT])));
      const gradOf = (): Float32Array =>
        tf.tidy(
          () =>
            tf
              .grad((x: tf.Tensor) => loss(x as tf.Tensor2D))(tf.tensor2d(xData, [n, F]))
              .dataSync() as Float32Array,
        );
      gradOf(); // caches the ring operators and their transposes
      const before = tf.memory().numTensors;
      const g = gradOf();
      expect(tf.memory().numTensors).toBe(before);
      const fd = finiteDifferenceGradient(
        (x) => tf.tidy(() => loss(tf.tensor2d(x, [n, F])).dataSync()[0]!),
        xData,
        1e-2,
      );
      expectArraysClose(g, fd, 2e-2, 'drew input gradient');
      model.dispose();
    });
  });
}

describe('DRew delays and options', () => {
  it('delay is max(0, k - nu)', () => {
    const m = createDrewModel(2, 2, { layers: 2, nu: 2 });
    expect([1, 2, 3, 4].map((k) => m.delay(k))).toEqual([0, 0, 1, 2]);
    m.dispose();
    const none = createDrewModel(2, 2, { layers: 2, nu: Number.POSITIVE_INFINITY });
    expect(none.delay(7)).toBe(0);
    none.dispose();
  });

  it('rejects nu < 1', () => {
    expect(() => createDrewModel(2, 2, { nu: 0.5 })).toThrow(GnnLayersError);
  });
});
