import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose, finiteDifferenceGradient } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Aggregation,
  disposePropagateCache,
  type MessageContext,
  propagate,
} from '../src/index.js';

// Directed multigraph: isolated node 5, self loop 2 -> 2, duplicated arc 0 -> 1.
const N = 6;
const graph = CsrGraph.fromEdges(
  N,
  Int32Array.from([0, 0, 1, 2, 3, 4, 4, 1, 2]),
  Int32Array.from([1, 1, 2, 2, 1, 0, 3, 4, 0]),
  { directed: true, dedupe: false },
);
const F = 2;
const E = graph.numEdges;

/**
 * A propagate call as a function of its differentiable inputs: node
 * features, edge attributes `[E, F]`, a parameter `[F, F]` and a temperature.
 */
interface GradCase {
  label: string;
  usesTemperature: boolean;
  run: (x: tf.Tensor2D, e: tf.Tensor2D, w: tf.Tensor2D, t: tf.Tensor1D) => tf.Tensor2D;
}

/** Materialised message `tanh(x_j W + x_i + e)`. */
const tensorMessage = (w: tf.Tensor2D) => (ctx: MessageContext) =>
  tf.tanh(tf.addN([tf.matMul(ctx.xJ, w), ctx.xI, ctx.edgeAttr!])) as tf.Tensor2D;

/** Source copy weighted per head by `sigmoid(e W)`, `[E, 2]`. */
const weightedCopy = (w: tf.Tensor2D) => (ctx: MessageContext) =>
  ctx.copySource(tf.sigmoid(tf.matMul(ctx.edgeAttr!, w)) as tf.Tensor2D);

const plain = (name: 'sum' | 'mean' | 'max' | 'min'): GradCase => ({
  label: `${name} of tanh(x_j W + x_i + e)`,
  usesTemperature: false,
  run: (x, e, w) =>
    propagate(graph, { x, edgeAttr: e, message: tensorMessage(w), aggregate: name }),
});

const CASES: GradCase[] = [
  plain('sum'),
  plain('mean'),
  plain('max'),
  plain('min'),
  {
    label: 'softmax with a learnable per-channel temperature (DeeperGCN)',
    usesTemperature: true,
    run: (x, e, w, t) =>
      propagate(graph, {
        x,
        edgeAttr: e,
        message: tensorMessage(w),
        aggregate: { kind: 'softmax', temperature: t },
      }),
  },
  {
    label: 'softmax with [E, 2] attention scores on the spmm path, self loops, target_to_source',
    usesTemperature: true,
    run: (x, e, w, t) => {
      const agg: Aggregation = {
        kind: 'softmax',
        temperature: t,
        scores: (ctx) =>
          tf.add(ctx.gatherSource(tf.matMul(ctx.x, w)), tf.matMul(ctx.edgeAttr!, w)) as tf.Tensor2D,
      };
      return propagate(graph, {
        x,
        edgeAttr: e,
        message: weightedCopy(w),
        aggregate: agg,
        flow: 'target_to_source',
        selfLoops: true,
      });
    },
  },
  {
    label: 'mean of a weighted source copy (spmm path), self loops with mean edge attributes',
    usesTemperature: false,
    run: (x, e, w) =>
      propagate(graph, {
        x,
        edgeAttr: e,
        message: weightedCopy(w),
        aggregate: 'mean',
        selfLoops: true,
      }),
  },
  {
    label: "mean in 'target' arc order, self loops with mean edge attributes",
    usesTemperature: false,
    run: (x, e, w) =>
      propagate(graph, {
        x,
        edgeAttr: e,
        message: tensorMessage(w),
        aggregate: 'mean',
        selfLoops: true,
        arcOrder: 'target',
      }),
  },
  {
    label: "softmax with [E] scores and [E, 2] copy weights in 'target' arc order",
    usesTemperature: false,
    run: (x, e, w) =>
      propagate(graph, {
        x,
        edgeAttr: e,
        message: weightedCopy(w),
        aggregate: {
          kind: 'softmax',
          scores: (ctx) => tf.sum(tf.mul(ctx.xI, ctx.edgeAttr!), 1) as tf.Tensor1D,
        },
        arcOrder: 'target',
      }),
  },
  {
    label: 'max of a weighted source copy (materialised)',
    usesTemperature: false,
    run: (x, e, w) =>
      propagate(graph, { x, edgeAttr: e, message: weightedCopy(w), aggregate: 'max' }),
  },
  {
    label: 'min with an update (ReLU(aggregated + x W))',
    usesTemperature: false,
    run: (x, e, w) =>
      propagate(graph, {
        x,
        edgeAttr: e,
        message: tensorMessage(w),
        aggregate: 'min',
        update: (agg, ctx) => tf.relu(tf.add(agg, tf.matMul(ctx.x, w))) as tf.Tensor2D,
      }),
  },
];

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`propagate gradients against finite differences on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const c of CASES) {
      it(c.label, () => {
        const rng = new SeededRandom(31);
        const data = {
          x: rng.fillNormal(new Float32Array(N * F)),
          e: rng.fillNormal(new Float32Array(E * F)),
          w: rng.fillNormal(new Float32Array(F * F)),
          t: Float32Array.from([0.7, 1.6]),
        };
        const probe = rng.fillUniform(new Float32Array(N * F), -1, 1);
        const keys = c.usesTemperature
          ? (['x', 'e', 'w', 't'] as const)
          : (['x', 'e', 'w'] as const);
        const loss = (v: Record<'x' | 'e' | 'w' | 't', Float32Array | tf.Tensor>): tf.Scalar => {
          const [x, e, w] = (['x', 'e', 'w'] as const).map((k) => {
            const val = v[k];
            return val instanceof Float32Array
              ? tf.tensor2d(val, k === 'x' ? [N, F] : k === 'e' ? [E, F] : [F, F])
              : (val as tf.Tensor2D);
          }) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
          const t = v.t instanceof Float32Array ? tf.tensor1d(v.t) : (v.t as tf.Tensor1D);
          return tf.sum(tf.mul(c.run(x, e, w, t), tf.tensor2d(probe, [N, F])));
        };
        const shapes = { x: [N, F], e: [E, F], w: [F, F], t: [2] };
        const gradients = (): Float32Array[] =>
          tf.tidy(() =>
            tf
              .grads((...ts: tf.Tensor[]) =>
                loss({ ...data, ...Object.fromEntries(keys.map((k, i) => [k, ts[i]!])) }),
              )(keys.map((k) => tf.tensor(data[k], shapes[k])))
              .map((g) => g.dataSync() as Float32Array),
          );
        const start = tf.memory().numTensors;
        gradients(); // builds the cached arc tensors and the transpose the backward pass uses
        const before = tf.memory().numTensors;
        const analytic = gradients();
        expect(tf.memory().numTensors).toBe(before);
        keys.forEach((k, i) => {
          const fd = finiteDifferenceGradient(
            (v) => tf.tidy(() => loss({ ...data, [k]: v }).dataSync()[0]!),
            data[k],
            1e-3,
          );
          expectArraysClose(analytic[i]!, fd, 2e-2, `${c.label}: d/d${k}`);
        });
        disposePropagateCache(graph);
        expect(tf.memory().numTensors).toBe(start);
      });
    }
  });
}
