import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { GnnLayersError } from '../src/index.js';
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
      });
    }

    it('gradients reach listen and broadcast gates (finite differences)', () => {
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
              'mean',
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

    // Model-level semantics: a huge action bias forces one action everywhere.
    const forced: [string, number, boolean][] = [
      ['standard', S, true],
      ['listen', L, false],
      ['broadcast', B, false],
      ['isolate', I, false],
    ];
    for (const [name, action, hearsNeighbours] of forced) {
      it(`forced '${name}' everywhere: neighbours ${hearsNeighbours ? 'matter' : 'are ignored'}`, () => {
        const model = createCoGnnModel(F, 2, { hidden: 4, layers: 2, seed: 8 });
        for (const v of model.variables) {
          if (v.name.includes('_act_b_'))
            v.assign(tf.tensor1d([0, 1, 2, 3].map((a) => (a === action ? 100 : -100))));
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

    it('training mode: seeded samples, gradients reach every action network, no leaks', () => {
      const model = createCoGnnModel(F, 2, { hidden: 5, layers: 2, temperature: 1, seed: 2 });
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
        // Action logits are reached through the straight-through estimator.
        if (name.includes('_act_s_')) expect(norm, name).toBeGreaterThan(0);
      }
      x.dispose();
      model.dispose();
    });
  });
}

describe('Co-GNN options', () => {
  it('rejects a non-positive temperature', () => {
    expect(() => createCoGnnModel(2, 2, { temperature: 0 })).toThrow(GnnLayersError);
  });
});
