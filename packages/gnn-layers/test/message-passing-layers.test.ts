import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom, segmentSum } from '@plexus/tensor';
import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createGatConv,
  createGcnConv,
  createGinConv,
  createGineConv,
  createSageConv,
  disposeGraphOperators,
  disposePropagateCache,
  type MessageContext,
  MessagePassing,
  propagate,
  type SourceCopy,
} from '../src/index.js';

// GCN, GraphSAGE, GIN, GINE and GAT/GATv2 written on the message-passing base, checked
// against the package's hand-written layers with the same parameters.

const ctx = { training: false, nextSeed: () => 0 };

/** Directed multigraph of the layer tests (isolated node 6, duplicate arc 1 -> 3). */
const directed = CsrGraph.fromEdges(
  7,
  Int32Array.from([0, 1, 2, 3, 4, 5, 1, 1, 5, 2]),
  Int32Array.from([1, 2, 0, 1, 1, 1, 3, 3, 4, 5]),
  { directed: true, dedupe: false },
);
/** Two undirected graphs (one with a self loop) as one block-diagonal batch. */
const batched = CsrGraph.batch([
  CsrGraph.fromEdges(4, [0, 1, 2, 2], [1, 2, 0, 3]),
  CsrGraph.fromEdges(5, [0, 1, 3, 3, 4], [1, 1, 4, 0, 2], { dedupe: false }),
]).graph;

interface Mlp {
  w1: tf.Tensor2D;
  b1: tf.Tensor1D;
  w2: tf.Tensor2D;
  b2: tf.Tensor1D;
  eps: tf.Scalar;
}

const mlp = (p: Mlp, z: tf.Tensor2D): tf.Tensor2D =>
  tf.add(tf.matMul(tf.relu(tf.add(tf.matMul(z, p.w1), p.b1)), p.w2), p.b2) as tf.Tensor2D;

/** GIN (Xu et al., 2019) on the base: default `x_j` message, sum, MLP in `update`. */
class GinOnBase extends MessagePassing {
  constructor(private readonly p: Mlp) {
    super({ aggregate: 'sum' });
  }

  protected override update(aggregated: tf.Tensor2D, c: MessageContext): tf.Tensor2D {
    return mlp(this.p, tf.add(tf.mul(tf.add(this.p.eps, 1), c.x), aggregated) as tf.Tensor2D);
  }
}

/** GINE (Hu et al., 2020) on the base: message `ReLU(x_j + e_ji)`. */
class GineOnBase extends GinOnBase {
  protected override message(c: MessageContext): tf.Tensor2D | SourceCopy {
    return tf.relu(tf.add(c.xJ, c.edgeAttr!)) as tf.Tensor2D;
  }
}

/** GAT / GATv2 on `propagate`: self loops, per-head scores, softmax on the spmm path. */
function gatOnBase(
  graph: CsrGraph,
  x: tf.Tensor2D,
  vars: readonly tf.Variable[],
  heads: number,
  c: number,
  concat: boolean,
  v2: boolean,
): tf.Tensor2D {
  const n = x.shape[0];
  const [w, wDst, att, attDst, bias] = (
    v2
      ? [vars[0], vars[1], vars[2], undefined, vars[3]]
      : [vars[0], undefined, vars[1], vars[2], vars[3]]
  ) as tf.Tensor2D[];
  const z = tf.matMul(x, w!) as tf.Tensor2D;
  const zDst = v2 ? (tf.matMul(x, wDst!) as tf.Tensor2D) : undefined;
  const perNode = (t: tf.Tensor2D, a: tf.Tensor2D): tf.Tensor2D =>
    tf.sum(tf.mul(tf.reshape(t, [-1, heads, c]), a), 2) as tf.Tensor2D;
  const scores = (m: MessageContext): tf.Tensor2D =>
    v2
      ? perNode(tf.leakyRelu(tf.add(m.xJ, m.gatherTarget(zDst!)), 0.2) as tf.Tensor2D, att!)
      : (tf.leakyRelu(
          tf.add(m.gatherSource(perNode(z, att!)), m.gatherTarget(perNode(z, attDst!))),
          0.2,
        ) as tf.Tensor2D);
  const out = propagate(graph, {
    x: z,
    selfLoops: true,
    // Either arc order gives the same layer; 'target' skips permuting the attention.
    arcOrder: v2 ? 'graph' : 'target',
    aggregate: { kind: 'softmax', scores },
  });
  const combined = concat ? out : (tf.mean(tf.reshape(out, [n, heads, c]), 1) as tf.Tensor2D);
  return tf.add(combined, bias!) as tf.Tensor2D;
}

/**
 * GCN (Kipf & Welling, 2017) on `propagate`: self loops, and a source copy
 * weighted by `1 / sqrt(d_i d_j)` with `d` the in-degree counting the loop.
 */
function gcnOnBase(graph: CsrGraph, x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D): tf.Tensor2D {
  const h = propagate(graph, {
    x: tf.matMul(x, w),
    selfLoops: true,
    message: (m) => {
      const deg = segmentSum(tf.ones([m.numArcs]) as tf.Tensor1D, m.targetIds, m.numNodes);
      const inv = tf.rsqrt(deg) as tf.Tensor1D;
      return m.copySource(tf.mul(m.gatherSource(inv), m.gatherTarget(inv)) as tf.Tensor1D);
    },
  });
  return tf.add(h, b) as tf.Tensor2D;
}

/** GraphSAGE's mean aggregator (Hamilton et al., 2017): `x W_self + mean_j(x_j) W_neigh + b`. */
function sageOnBase(graph: CsrGraph, x: tf.Tensor2D, vars: readonly tf.Variable[]): tf.Tensor2D {
  const [wSelf, wNeigh, b] = vars as unknown as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D];
  return propagate(graph, {
    x: tf.matMul(x, wNeigh),
    aggregate: 'mean',
    update: (agg) => tf.add(tf.add(tf.matMul(x, wSelf), agg), b) as tf.Tensor2D,
  });
}

/** Output and input gradient of `f` at `x` against a fixed probe. */
function outputAndGrad(
  f: (x: tf.Tensor2D) => tf.Tensor2D,
  x: Float32Array,
  shape: [number, number],
) {
  return tf.tidy(() => {
    const xt = tf.tensor2d(x, shape);
    const out = f(xt);
    const probe = tf.randomUniform(out.shape, -1, 1, 'float32', 3);
    const g = tf.grad((xi: tf.Tensor) => tf.sum(tf.mul(f(xi as tf.Tensor2D), probe)))(xt);
    return { out: out.dataSync() as Float32Array, grad: g.dataSync() as Float32Array };
  });
}

function expectSame(
  a: ReturnType<typeof outputAndGrad>,
  b: ReturnType<typeof outputAndGrad>,
  label: string,
) {
  expectArraysClose(a.out, b.out, 1e-5, `${label} output`);
  expectArraysClose(a.grad, b.grad, 1e-4, `${label} input gradient`);
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`layers on the message-passing base match the package's layers on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const [label, graph] of [
      ['directed multigraph', directed],
      ['block-diagonal batch of undirected graphs', batched],
    ] as const) {
      const n = graph.numNodes;
      const rng = new SeededRandom(17);
      const F = 4;
      const xData = rng.fillNormal(new Float32Array(n * F));

      it(`GCN: ${label}`, () => {
        const layer = createGcnConv(F, 3, { seed: 5 });
        const [w, b] = layer.variables as tf.Variable[];
        b!.assign(tf.tensor1d(rng.fillUniform(new Float32Array(3), -1, 1)));
        const ours = outputAndGrad(
          (x) => gcnOnBase(graph, x, w as tf.Tensor2D, b as tf.Tensor1D),
          xData,
          [n, F],
        );
        const theirs = outputAndGrad((x) => layer.apply(graph, x, ctx), xData, [n, F]);
        expectSame(ours, theirs, 'GCN');
        layer.dispose();
      });

      it(`GraphSAGE (mean): ${label}`, () => {
        const layer = createSageConv(F, 3, { seed: 6 });
        const vars = layer.variables as tf.Variable[];
        vars[2]!.assign(tf.tensor1d(rng.fillUniform(new Float32Array(3), -1, 1)));
        const ours = outputAndGrad((x) => sageOnBase(graph, x, vars), xData, [n, F]);
        const theirs = outputAndGrad((x) => layer.apply(graph, x, ctx), xData, [n, F]);
        expectSame(ours, theirs, 'SAGE');
        layer.dispose();
      });

      it(`GIN-ε: ${label}`, () => {
        const layer = createGinConv(F, 3, { hidden: 5, trainEps: true, seed: 2 });
        const [w1, b1, w2, b2, eps] = layer.variables as tf.Variable[];
        b1!.assign(tf.tensor1d(rng.fillUniform(new Float32Array(5), -1, 1)));
        eps!.assign(tf.scalar(0.3));
        const base = new GinOnBase({ w1, b1, w2, b2, eps } as unknown as Mlp);
        disposePropagateCache(graph);
        disposeGraphOperators(graph);
        const before = tf.memory().numTensors;
        const ours = outputAndGrad((x) => base.propagate(graph, x), xData, [n, F]);
        const theirs = outputAndGrad((x) => layer.apply(graph, x, ctx), xData, [n, F]);
        expectSame(ours, theirs, 'GIN');
        disposePropagateCache(graph);
        disposeGraphOperators(graph);
        expect(tf.memory().numTensors).toBe(before);
        layer.dispose();
      });

      it(`GINE with edge features: ${label}`, () => {
        const E = graph.numEdges;
        const eData = rng.fillNormal(new Float32Array(E * F));
        const layer = createGineConv(F, 3, { hidden: 5, trainEps: true, seed: 4 });
        const [w1, b1, w2, b2, eps] = layer.variables as tf.Variable[];
        eps!.assign(tf.scalar(-0.2));
        const base = new GineOnBase({ w1, b1, w2, b2, eps } as unknown as Mlp);
        const ours = outputAndGrad(
          (x) => base.propagate(graph, x, tf.tensor2d(eData, [E, F])),
          xData,
          [n, F],
        );
        const theirs = outputAndGrad(
          (x) => layer.apply(graph, x, tf.tensor2d(eData, [E, F]), ctx),
          xData,
          [n, F],
        );
        expectSame(ours, theirs, 'GINE');
        layer.dispose();
      });

      for (const v2 of [false, true]) {
        for (const concat of [true, false]) {
          it(`${v2 ? 'GATv2' : 'GAT'} (3 heads, ${concat ? 'concat' : 'mean'}): ${label}`, () => {
            const layer = createGatConv(F, 2, { heads: 3, concat, v2, seed: 9 });
            const vars = layer.variables as tf.Variable[];
            vars
              .at(-1)!
              .assign(tf.tensor1d(rng.fillUniform(new Float32Array(vars.at(-1)!.size), -1, 1)));
            const ours = outputAndGrad((x) => gatOnBase(graph, x, vars, 3, 2, concat, v2), xData, [
              n,
              F,
            ]);
            const theirs = outputAndGrad((x) => layer.apply(graph, x, ctx), xData, [n, F]);
            expectSame(ours, theirs, v2 ? 'GATv2' : 'GAT');
            layer.dispose();
          });
        }
      }
    }
  });
}
