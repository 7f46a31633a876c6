import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GnnLayersError } from '../src/index.js';
import { createTideConv, heatChebyshevCoefficients } from '../src/seed/index.js';
import { denseAdjacency, type Matrix } from './dense-reference.js';
import { scaledBesselI, tideReference } from './seed-reference.js';

// The directed multigraph of the layer tests (isolated node, hub, duplicate arc)
// and an undirected graph with a pendant path, whose Laplacian is symmetric.
const n = 7;
const dirSrc = [0, 1, 2, 3, 4, 5, 1, 1, 5, 2];
const dirDst = [1, 2, 0, 1, 1, 1, 3, 3, 4, 5];
const directed = CsrGraph.fromEdges(n, Int32Array.from(dirSrc), Int32Array.from(dirDst), {
  directed: true,
  dedupe: false,
});
const undSrc = [0, 1, 2, 0, 3, 4];
const undDst = [1, 2, 0, 3, 4, 5];
const undirected = CsrGraph.fromEdges(n, Int32Array.from(undSrc), Int32Array.from(undDst));
const undAdj = denseAdjacency(n, [...undSrc, ...undDst], [...undDst, ...undSrc]);
const F = 4;
const C = 3;
const OUT = 2;
const ctx = { training: false, nextSeed: () => 0 };
const rows = (t: tf.Tensor): Matrix => t.arraySync() as Matrix;
const vec = (t: tf.Tensor): number[] => Array.from(t.dataSync());
const logit = (p: number): number => Math.log(p / (1 - p));

const cases = [
  { name: 'directed multigraph', graph: directed, adj: denseAdjacency(n, dirSrc, dirDst) },
  { name: 'undirected graph', graph: undirected, adj: undAdj },
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`TIDE on ${backend}`, () => {
    const rng = new SeededRandom(11);
    const xData = rng.fillNormal(new Float32Array(n * F));
    const probe = rng.fillUniform(new Float32Array(n * OUT), -1, 1);
    beforeAll(async () => {
      await initBackend({ backend });
    });

    it('Chebyshev–Bessel coefficients match the series and sum to one', () => {
      const times = [0.05, 1, 4, 12];
      const coeffs = tf.tidy(() =>
        heatChebyshevCoefficients(tf.tensor1d(times), 40, 16).arraySync(),
      ) as number[][];
      for (let k = 0; k <= 40; k++) {
        times.forEach((t, c) => {
          const expected = (k === 0 ? 1 : 2) * scaledBesselI(k, t);
          expect(Math.abs(coeffs[k]![c]! - expected)).toBeLessThan(2e-6 * (1 + expected));
        });
      }
      // exp(-t (1 - x)) at x = 1 is 1 = Σ_k coeff_k T_k(1) = Σ_k coeff_k.
      times.forEach((_, c) => {
        expect(coeffs.reduce((s, row) => s + row[c]!, 0)).toBeCloseTo(1, 5);
      });
    });

    for (const { name, graph, adj } of cases) {
      it(`matches the dense matrix exponential (${name}), gradients incl. diffusion times`, () => {
        const layer = createTideConv(F, OUT, { channels: C, order: 30, maxTime: 5, seed: 2 });
        const [wIn, theta, wOut, bias] = layer.variables;
        const times = [0.3, 1.7, 4.2];
        theta!.assign(tf.tensor1d(times.map((t) => logit(t / 5))));
        bias!.assign(tf.tensor1d([0.5, -0.25]));
        expectArraysClose(layer.diffusionTimes(), times, 1e-5, 'times');
        const out = tf.tidy(() => layer.apply(graph, tf.tensor2d(xData, [n, F]), ctx));
        const x = rows(tf.tidy(() => tf.tensor2d(xData, [n, F])));
        const ref = tideReference(adj, x, rows(wIn!), times, rows(wOut!), vec(bias!));
        expectArraysClose(out.dataSync(), ref.flat(), 1e-4, 'tide output');
        out.dispose();

        // Analytic gradients against central differences, for the input,
        // W_in and the time logits θ (t = maxTime · sigmoid(θ)).
        const loss = (): tf.Scalar =>
          tf.sum(
            tf.mul(
              layer.apply(graph, tf.tensor2d(xData, [n, F]), ctx),
              tf.tensor2d(probe, [n, OUT]),
            ),
          );
        // Counted after a first backward pass: the graph's operator tensors
        // (and their transposes, for gradients) are cached on first use.
        tf.tidy(() => tf.variableGrads(loss, [theta!]));
        const before = tf.memory().numTensors;
        for (const v of [theta!, wIn!]) {
          const g = tf.tidy(() => {
            const { grads } = tf.variableGrads(loss, [v]);
            return grads[v.name]!.dataSync() as Float32Array;
          });
          const start = v.dataSync().slice() as Float32Array;
          const fd = finiteDifferenceGradient(
            (p) =>
              tf.tidy(() => {
                v.assign(tf.tensor(p, v.shape));
                return loss().dataSync()[0]!;
              }),
            start,
            1e-2,
          );
          tf.tidy(() => v.assign(tf.tensor(start, v.shape)));
          expectArraysClose(g, fd, 2e-2, `gradient of ${v.name}`);
          expect(g.some((e) => Math.abs(e) > 1e-4)).toBe(true);
        }
        expect(tf.memory().numTensors).toBe(before);
        layer.dispose();
      });
    }

    it('a long diffusion time reaches nodes far beyond a few hops', () => {
      // Path of 12 nodes: node 0 must see node 11 (11 hops) after one layer.
      const m = 12;
      const path = CsrGraph.fromEdges(
        m,
        Int32Array.from({ length: m - 1 }, (_, i) => i),
        Int32Array.from({ length: m - 1 }, (_, i) => i + 1),
      );
      const layer = createTideConv(1, 1, { channels: 1, order: 24, initialTime: 12, maxTime: 16 });
      const grad = tf.tidy(() =>
        tf
          .grad((x: tf.Tensor) =>
            tf.sum(tf.slice(layer.apply(path, x as tf.Tensor2D, ctx), [0, 0], [1, 1])),
          )(tf.ones([m, 1]))
          .dataSync(),
      );
      expect(Math.abs(grad[m - 1]!)).toBeGreaterThan(1e-4);
      layer.dispose();
    });
  });
}

describe('TIDE bad options', () => {
  it('names the bad option', () => {
    expect(() => createTideConv(2, 2, { maxTime: -1 })).toThrow(GnnLayersError);
    expect(() => createTideConv(2, 2, { maxTime: 4, initialTime: 5 })).toThrow(
      /@plexus\/gnn-layers\/tide: initialTime must be in \(0, 4\)/,
    );
  });
});
