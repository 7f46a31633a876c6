import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GnnLayersError } from '../src/index.js';
import {
  createCoGnnLayerNorm,
  createCoGnnMpnn,
  createCoGnnTemperature,
} from '../src/seed/cognn-parts.js';
import {
  COGNN_ACTIONS,
  createCoGnnModel,
  gatedMessages,
  gumbelSoftmax,
} from '../src/seed/index.js';

// Directed arcs j -> i: a star into node 0, a chain 3 -> 4 -> 5, a duplicate arc.
const n = 6;
const src = [1, 2, 3, 3, 4, 2];
const dst = [0, 0, 0, 4, 5, 0];
const graph = CsrGraph.fromEdges(n, Int32Array.from(src), Int32Array.from(dst), {
  directed: true,
  dedupe: false,
});
const F = 3;
const ctx = { training: false, nextSeed: () => 0 };
const [S, L, B, I] = [0, 1, 2, 3];
const inDegree = Array.from({ length: n }, (_, i) => dst.filter((d) => d === i).length);
const listens = (a: number): number => (a === S || a === L ? 1 : 0);
const broadcasts = (a: number): number => (a === S || a === B ? 1 : 0);

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`Co-GNN on ${backend}`, () => {
    const rng = new SeededRandom(21);
    const hData = rng.fillNormal(new Float32Array(n * F));
    beforeAll(async () => {
      await initBackend({ backend });
    });

    it('actions are ordered standard, listen, broadcast, isolate', () => {
      expect(COGNN_ACTIONS).toEqual(['standard', 'listen', 'broadcast', 'isolate']);
    });

    // Hand-made action assignments: who hears whom on the induced directed graph.
    const assignments: [string, number[], number[][]][] = [
      // Hub 0 listens; 1 broadcasts, 2 is standard, 3 isolates: 0 hears 1 and 2 (twice).
      ['hub listens to broadcasters only', [L, B, S, I, S, S], [[1, 2, 2], [], [], [], [], [4]]],
      // Hub isolates: hears nobody though all others broadcast; 4 listens, 3 broadcasts.
      ['isolated hub hears nobody', [I, B, B, B, L, I], [[], [], [], [], [3], []]],
      // Broadcast-only nodes 0 and 4 hear nobody; listen-only 5 hears broadcaster 4.
      ['broadcasting does not imply listening', [B, S, S, S, B, L], [[], [], [], [], [], [4]]],
      ['all standard is the plain graph', [S, S, S, S, S, S], [[1, 2, 3, 2], [], [], [], [3], [4]]],
      ['all listen: nobody speaks', [L, L, L, L, L, L], [[], [], [], [], [], []]],
      ['all broadcast: nobody hears', [B, B, B, B, B, B], [[], [], [], [], [], []]],
    ];
    for (const [name, actions, heard] of assignments) {
      it(`gated messages: ${name}`, () => {
        const out = tf.tidy(() =>
          gatedMessages(
            graph,
            tf.tensor2d(hData, [n, F]),
            tf.tensor1d(actions.map(listens)),
            tf.tensor1d(actions.map(broadcasts)),
          ).dataSync(),
        );
        const expected = new Float32Array(n * F);
        heard.forEach((sources, i) => {
          for (const j of sources)
            for (let c = 0; c < F; c++) expected[i * F + c]! += hData[j * F + c]!;
        });
        expectArraysClose(out, expected, 1e-6, name);
        const mean = tf.tidy(() =>
          gatedMessages(
            graph,
            tf.tensor2d(hData, [n, F]),
            tf.tensor1d(actions.map(listens)),
            tf.tensor1d(actions.map(broadcasts)),
            'mean',
          ).dataSync(),
        );
        expectArraysClose(
          mean,
          expected.map((v, k) => v / Math.max(1, heard[Math.floor(k / F)]!.length)),
          1e-6,
          `${name} (mean)`,
        );
        // The authors' code divides by the full in-degree, closed arcs included.
        const degreeMean = tf.tidy(() =>
          gatedMessages(
            graph,
            tf.tensor2d(hData, [n, F]),
            tf.tensor1d(actions.map(listens)),
            tf.tensor1d(actions.map(broadcasts)),
            'degree-mean',
          ).dataSync(),
        );
        expectArraysClose(
          degreeMean,
          expected.map((v, k) => v / Math.max(1, inDegree[Math.floor(k / F)]!)),
          1e-6,
          `${name} (degree-mean)`,
        );
      });
    }

    for (const aggregation of ['sum', 'mean', 'degree-mean'] as const)
      it(`gradients reach listen and broadcast gates, ${aggregation} (finite differences)`, () => {
        const gates = rng.fillUniform(new Float32Array(2 * n), 0.2, 0.9);
        const probe = rng.fillUniform(new Float32Array(n * F), -1, 1);
        const loss = (g: tf.Tensor1D): tf.Scalar =>
          tf.sum(
            tf.mul(
              gatedMessages(
                graph,
                tf.tensor2d(hData, [n, F]),
                tf.slice(g, 0, n),
                tf.slice(g, n, n),
                aggregation,
              ),
              tf.tensor2d(probe, [n, F]),
            ),
          );
        const grad = tf.tidy(() =>
          tf
            .grad((g: tf.Tensor) => loss(g as tf.Tensor1D))(tf.tensor1d(gates))
            .dataSync(),
        );
        const fd = finiteDifferenceGradient(
          (g) => tf.tidy(() => loss(tf.tensor1d(g)).dataSync()[0]!),
          gates,
          1e-3,
        );
        expectArraysClose(grad, fd, 1e-2, 'gate gradient');
      });

    it('straight-through Gumbel-softmax: one-hot forward, softmax gradient backward', () => {
      const logits = rng.fillNormal(new Float32Array(5 * 4));
      const probe = rng.fillUniform(new Float32Array(5 * 4), -1, 1);
      const hard = tf.tidy(() =>
        gumbelSoftmax(tf.tensor2d(logits, [5, 4]), { temperature: 0.7, seed: 3 }).arraySync(),
      ) as number[][];
      for (const row of hard) {
        expect(row.filter((v) => v === 1)).toHaveLength(1);
        expect(row.reduce((s, v) => s + v, 0)).toBe(1);
      }
      // Same seed, same sample; noise-free hard sample is the argmax.
      const again = tf.tidy(() =>
        gumbelSoftmax(tf.tensor2d(logits, [5, 4]), { temperature: 0.7, seed: 3 }).arraySync(),
      );
      expect(again).toEqual(hard);
      const argmax = tf.tidy(() =>
        tf.argMax(gumbelSoftmax(tf.tensor2d(logits, [5, 4]), { temperature: 0.7 }), 1).arraySync(),
      );
      expect(argmax).toEqual(tf.tidy(() => tf.argMax(tf.tensor2d(logits, [5, 4]), 1).arraySync()));
      const gradOf = (hardFlag: boolean): Float32Array =>
        tf.tidy(
          () =>
            tf
              .grad((z: tf.Tensor) =>
                tf.sum(
                  tf.mul(
                    gumbelSoftmax(z as tf.Tensor2D, { temperature: 0.7, seed: 3, hard: hardFlag }),
                    tf.tensor2d(probe, [5, 4]),
                  ),
                ),
              )(tf.tensor2d(logits, [5, 4]))
              .dataSync() as Float32Array,
        );
      const st = gradOf(true);
      expectArraysClose(st, gradOf(false), 1e-6, 'straight-through gradient');
      expect(st.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    });

    it('Gumbel-softmax with per-row temperatures: gradients reach τ (finite differences)', () => {
      const logits = rng.fillNormal(new Float32Array(5 * 2));
      const taus = rng.fillUniform(new Float32Array(5), 0.3, 1.5);
      const probe = rng.fillUniform(new Float32Array(5 * 2), -1, 1);
      const f = (t: tf.Tensor, hard: boolean): tf.Scalar =>
        tf.sum(
          tf.mul(
            gumbelSoftmax(tf.tensor2d(logits, [5, 2]), {
              temperature: tf.reshape(t, [5, 1]),
              seed: 4,
              hard,
            }),
            tf.tensor2d(probe, [5, 2]),
          ),
        );
      // Forward: Gumbel-max does not depend on τ, so the hard sample equals the scalar-τ one.
      const perRow = tf.tidy(() =>
        gumbelSoftmax(tf.tensor2d(logits, [5, 2]), {
          temperature: tf.tensor2d(taus, [5, 1]),
          seed: 4,
        }).arraySync(),
      );
      const scalar = tf.tidy(() =>
        gumbelSoftmax(tf.tensor2d(logits, [5, 2]), { temperature: 1, seed: 4 }).arraySync(),
      );
      expect(perRow).toEqual(scalar);
      const grad = (hard: boolean): Float32Array =>
        tf.tidy(
          () =>
            tf
              .grad((t: tf.Tensor) => f(t, hard))(tf.tensor1d(taus))
              .dataSync() as Float32Array,
        );
      const fd = finiteDifferenceGradient(
        (t) => tf.tidy(() => f(tf.tensor1d(t), false).dataSync()[0]!),
        taus,
        1e-3,
      );
      expectArraysClose(grad(false), fd, 1e-2, 'soft dτ');
      // Straight-through: the hard sample hands τ the soft sample's gradient.
      expectArraysClose(grad(true), grad(false), 1e-6, 'straight-through dτ');
      expect(fd.some((v) => Math.abs(v) > 1e-3)).toBe(true);
    });

    it('learned temperature τ = 1/(softplus(h w) + τ0) matches a plain-JS reference', () => {
      const tau = createCoGnnTemperature(rng, F, 0.5, `tau_test_${backend}`);
      const w = tau.variables[0]!.dataSync();
      const out = tf.tidy(() => tau.apply(tf.tensor2d(hData, [n, F])).dataSync());
      const expected = Array.from({ length: n }, (_, i) => {
        let z = 0;
        for (let c = 0; c < F; c++) z += hData[i * F + c]! * w[c]!;
        return 1 / (Math.log1p(Math.exp(z)) + 0.5);
      });
      expectArraysClose(out, expected, 1e-5, 'tau');
      for (const t of out) expect(t > 0 && t <= 2).toBe(true);
      const probe = rng.fillUniform(new Float32Array(n), -1, 1);
      const loss = (h: tf.Tensor): tf.Scalar =>
        tf.sum(tf.mul(tau.apply(h as tf.Tensor2D), tf.tensor2d(probe, [n, 1])));
      const analytic = tf.tidy(() =>
        tf
          .grad(loss)(tf.tensor2d(hData, [n, F]))
          .dataSync(),
      );
      const fd = finiteDifferenceGradient(
        (h) => tf.tidy(() => loss(tf.tensor2d(h, [n, F])).dataSync()[0]!),
        hData,
        1e-3,
      );
      expectArraysClose(analytic, fd, 1e-2, 'dτ/dh');
      for (const v of tau.variables) v.dispose();
    });

    it('layer norm matches a plain-JS reference', () => {
      const norm = createCoGnnLayerNorm(F, `ln_test_${backend}`);
      const out = tf.tidy(() => norm.apply(tf.tensor2d(hData, [n, F])).dataSync());
      const expected = new Float32Array(n * F);
      for (let i = 0; i < n; i++) {
        const row = Array.from(hData.subarray(i * F, (i + 1) * F));
        const mu = row.reduce((a, b) => a + b, 0) / F;
        const variance = row.reduce((a, b) => a + (b - mu) ** 2, 0) / F;
        row.forEach((v, c) => {
          expected[i * F + c] = (v - mu) / Math.sqrt(variance + 1e-5);
        });
      }
      expectArraysClose(out, expected, 1e-4, 'layer norm');
      for (const v of norm.variables) v.dispose();
    });

    for (const aggregation of ['mean', 'sum'] as const)
      it(`action network (${aggregation} MPNN, 2 layers) matches a plain-JS reference`, () => {
        const net = createCoGnnMpnn(
          rng,
          [F, 4, 2],
          aggregation,
          `mpnn_test_${backend}`,
          [0.5, -0.5],
        );
        const [s0, n0, b0, s1, n1, b1] = net.variables.map((v) => Array.from(v.dataSync()));
        const layer = (h: number[][], ws: number[], wn: number[], b: number[], out: number) =>
          h.map((_, i) => {
            const inArcs = src.filter((_, e) => dst[e] === i);
            const agg = new Array<number>(h[0]!.length).fill(0);
            for (const j of inArcs) for (let c = 0; c < agg.length; c++) agg[c]! += h[j]![c]!;
            if (aggregation === 'mean' && inArcs.length > 0)
              for (let c = 0; c < agg.length; c++) agg[c]! /= inArcs.length;
            return Array.from({ length: out }, (_, o) => {
              let z = b[o]!;
              for (let c = 0; c < h[i]!.length; c++)
                z += h[i]![c]! * ws[c * out + o]! + agg[c]! * wn[c * out + o]!;
              return z;
            });
          });
        const h0 = Array.from({ length: n }, (_, i) =>
          Array.from(hData.subarray(i * F, (i + 1) * F)),
        );
        const h1 = layer(h0, s0!, n0!, b0!, 4).map((r) => r.map((v) => Math.max(0, v)));
        const expected = layer(h1, s1!, n1!, b1!, 2).flat();
        expect(b1).toEqual([0.5, -0.5]);
        const out = tf.tidy(() => net.apply(graph, tf.tensor2d(hData, [n, F])).dataSync());
        expectArraysClose(out, expected, 1e-4, 'mpnn');
        for (const v of net.variables) v.dispose();
      });

    // Model-level semantics: huge keep / drop biases in the two action networks force one action.
    const forced: [string, number, boolean][] = [
      ['standard', S, true],
      ['listen', L, false],
      ['broadcast', B, false],
      ['isolate', I, false],
    ];
    for (const [name, action, hearsNeighbours] of forced) {
      it(`forced '${name}' everywhere: neighbours ${hearsNeighbours ? 'matter' : 'are ignored'}`, () => {
        const model = createCoGnnModel(F, 2, { hidden: 4, layers: 2, seed: 8 });
        const force = (keep: number): tf.Tensor1D =>
          tf.tensor1d(keep === 1 ? [100, -100] : [-100, 100]);
        for (const v of model.variables) {
          if (v.name.endsWith('_act_in_b_0')) v.assign(force(listens(action)));
          if (v.name.endsWith('_act_out_b_0')) v.assign(force(broadcasts(action)));
        }
        const actions = model.actions(graph, tf.tidy(() => tf.tensor2d(hData, [n, F])) as never);
        expect(actions).toHaveLength(2);
        for (const layerActions of actions)
          expect(Array.from(layerActions)).toEqual(new Array(n).fill(action));
        // d out_0 / d x_j for j != 0: nonzero only if 0 can hear its in-neighbours.
        const grad = tf.tidy(() =>
          tf
            .grad((x: tf.Tensor) =>
              tf.sum(tf.slice(model.apply(graph, x as tf.Tensor2D, ctx), [0, 0], [1, 2])),
            )(tf.tensor2d(hData, [n, F]))
            .arraySync(),
        ) as number[][];
        const fromNeighbours = grad
          .slice(1)
          .flat()
          .some((v) => Math.abs(v) > 1e-6);
        expect(fromNeighbours).toBe(hearsNeighbours);
        model.dispose();
      });
    }

    it('evaluation mode: environment gradients match finite differences', () => {
      // Deterministic actions are locally constant, so the output is smooth in the last
      // environment layer's weights (earlier layers also feed later action networks, where
      // the straight-through estimator's surrogate gradient is, by design, not the true one).
      const model = createCoGnnModel(F, 2, { hidden: 4, layers: 2, seed: 5, actionBias: 3 });
      const w = model.variables.find((v) => v.name.endsWith('_env_n_1'))!;
      const x = tf.tensor2d(hData, [n, F]);
      const probe = tf.tensor2d(rng.fillUniform(new Float32Array(n * 2), -1, 1), [n, 2]);
      const loss = (): tf.Scalar => tf.sum(tf.mul(model.apply(graph, x, ctx), probe));
      const analytic = tf.tidy(() => tf.variableGrads(loss, [w]).grads[w.name]!.dataSync());
      const w0 = w.dataSync().slice() as Float32Array;
      const fd = finiteDifferenceGradient(
        (values) =>
          tf.tidy(() => {
            w.assign(tf.tensor2d(values, w.shape as [number, number]));
            return loss().dataSync()[0]!;
          }),
        w0,
        1e-2,
      );
      tf.tidy(() => w.assign(tf.tensor2d(w0, w.shape as [number, number])));
      expectArraysClose(analytic, fd, 2e-2, 'environment weight gradient');
      tf.dispose([x, probe]);
      model.dispose();
    });

    it('training mode: seeded samples, gradients reach every action network, no leaks', () => {
      const model = createCoGnnModel(F, 2, { hidden: 5, layers: 2, seed: 2, dropout: 0.2 });
      let seed = 1;
      const train = { training: true, nextSeed: () => seed++ };
      const x = tf.tensor2d(hData, [n, F]);
      const loss = (): tf.Scalar => tf.sum(tf.square(model.apply(graph, x, train)));
      tf.tidy(() => tf.variableGrads(loss, model.variables as tf.Variable[]));
      const before = tf.memory().numTensors;
      seed = 1;
      const first = tf.tidy(() => model.apply(graph, x, train).dataSync());
      seed = 1;
      const second = tf.tidy(() => model.apply(graph, x, train).dataSync());
      expect(Array.from(second)).toEqual(Array.from(first));
      const norms = tf.tidy(() => {
        const { grads } = tf.variableGrads(loss, model.variables as tf.Variable[]);
        return model.variables.map(
          (v) => [v.name, tf.norm(grads[v.name]!).dataSync()[0]!] as const,
        );
      });
      expect(tf.memory().numTensors).toBe(before);
      for (const [name, norm] of norms) {
        expect(Number.isFinite(norm), name).toBe(true);
        // Action and temperature networks are reached through the straight-through estimator.
        if (/_act_(in|out)_s_0$|_tau_w$/.test(name)) expect(norm, name).toBeGreaterThan(0);
      }
      x.dispose();
      model.dispose();
    });
  });
}

describe('Co-GNN options', () => {
  it('rejects a bad temperature, tau0, dropout or action depth', () => {
    expect(() => createCoGnnModel(2, 2, { temperature: 0 })).toThrow(GnnLayersError);
    expect(() => createCoGnnModel(2, 2, { temperature: 0 })).toThrow(/'learned' or a number > 0/);
    expect(() => createCoGnnModel(2, 2, { tau0: 0 })).toThrow(/tau0 must be > 0/);
    expect(() => createCoGnnModel(2, 2, { dropout: 1 })).toThrow(/dropout must be in \[0, 1\)/);
    expect(() => createCoGnnModel(2, 2, { actionLayers: 0 })).toThrow(GnnLayersError);
  });

  it('parameter count: two shared action networks, one temperature vector, per-layer environment', () => {
    const count = (o: Parameters<typeof createCoGnnModel>[2]): number => {
      const m = createCoGnnModel(3, 2, { hidden: 4, layers: 3, ...o });
      const c = m.variables.reduce((s, v) => s + v.size, 0);
      m.dispose();
      return c;
    };
    // encoder 3*4+4, 2 action nets 2*(2*4*2+2), tau 4, 3 env layers 3*(2*4*4+4), readout 4*2+2.
    expect(count({})).toBe(16 + 36 + 4 + 108 + 10);
    expect(count({ layerNorm: true })).toBe(16 + 36 + 4 + 108 + 10 + 8);
    expect(count({ temperature: 0.5 })).toBe(16 + 36 + 108 + 10);
    // 2-layer action nets of width 16: 2*(2*4*16+16 + 2*16*2+2).
    expect(count({ actionLayers: 2 })).toBe(16 + 2 * (144 + 66) + 4 + 108 + 10);
  });

  it('actionBias sets the initial keep logit of both action networks', () => {
    const m = createCoGnnModel(3, 2, { hidden: 4, actionBias: 5 });
    const biases = m.variables.filter((v) => /_act_(in|out)_b_0$/.test(v.name));
    expect(biases).toHaveLength(2);
    for (const b of biases) expect(Array.from(b.dataSync())).toEqual([5, 0]);
    m.dispose();
  });
});
