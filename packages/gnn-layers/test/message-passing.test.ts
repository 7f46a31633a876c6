import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom, segmentSum } from '@plexus/tensor';
import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Aggregation,
  type ArcOrder,
  createSoftmaxAggregation,
  disposePropagateCache,
  type Flow,
  type MessageContext,
  type MessageFn,
  propagate,
} from '../src/index.js';
import {
  linear,
  type Matrix,
  type RefAggregation,
  type RefArc,
  referenceAggregate,
  referenceArcs,
  scaleRows,
} from './message-passing-reference.js';

const F = 4; // node features
const D = 3; // edge attributes
const H = 2; // heads of the 2-D weights and scores
const N = 9;

/**
 * Random multigraph on nodes 0..6 (7 and 8 isolated) with an explicit self
 * loop and a duplicated arc, directed or undirected.
 */
function randomGraph(seed: number, directed: boolean): CsrGraph {
  const rng = new SeededRandom(seed);
  const src = [2, 0, 0];
  const dst = [2, 1, 1];
  for (let k = 0; k < 14; k++) {
    src.push(rng.int(7));
    dst.push(rng.int(7));
  }
  return CsrGraph.fromEdges(N, src, dst, { directed, dedupe: false });
}

const mat = (rng: SeededRandom, r: number, c: number): Matrix =>
  Array.from({ length: r }, () => Array.from(rng.fillNormal(new Float32Array(c))));
const t2 = (m: Matrix): tf.Tensor2D => tf.tensor2d(m.flat(), [m.length, m[0]?.length ?? 0]);
const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));
const leaky = (v: number): number => (v >= 0 ? v : 0.2 * v);
const dot = (a: number[], b: number[]): number => a.reduce((s, v, k) => s + v * b[k]!, 0);
const col = (m: Matrix, c: number): Matrix => m.map((r) => [r[c]!]);

interface Params {
  x: Matrix;
  e: Matrix;
  w1: Matrix;
  w2: Matrix;
  w3: Matrix;
  a: Matrix; // [D, H]: copy weights sigmoid(e · a)
  aSrc: Matrix; // [F, H]: attention scores
  aDst: Matrix;
}

/** Message kinds: a materialised tensor, and source copies without / with `[E]` / `[E, H]` weights. */
const MESSAGES = ['tensor', 'copy', 'copy1', 'copy2'] as const;
type MessageKind = (typeof MESSAGES)[number];

function tfMessage(kind: MessageKind, p: Params): MessageFn {
  return (ctx: MessageContext) => {
    const e = ctx.edgeAttr!;
    if (kind === 'tensor') {
      return tf.tanh(
        tf.addN([tf.matMul(ctx.xJ, t2(p.w1)), tf.matMul(ctx.xI, t2(p.w2)), tf.matMul(e, t2(p.w3))]),
      ) as tf.Tensor2D;
    }
    if (kind === 'copy') return ctx.copySource();
    const w = tf.sigmoid(tf.matMul(e, t2(p.a))) as tf.Tensor2D;
    return ctx.copySource(
      kind === 'copy1' ? (tf.reshape(tf.slice(w, [0, 0], [-1, 1]), [-1]) as tf.Tensor1D) : w,
    );
  };
}

function refMessages(kind: MessageKind, p: Params, arcs: readonly RefArc[]): Matrix {
  const xj = arcs.map((a) => p.x[a.source]!);
  if (kind === 'tensor') {
    const xi = arcs.map((a) => p.x[a.target]!);
    const [m1, m2, m3] = [
      linear(xj, p.w1),
      linear(xi, p.w2),
      linear(
        arcs.map((a) => a.e),
        p.w3,
      ),
    ];
    return m1.map((r, k) => r.map((v, c) => Math.tanh(v + m2[k]![c]! + m3[k]![c]!)));
  }
  if (kind === 'copy') return xj;
  const w = linear(
    arcs.map((a) => a.e),
    p.a,
  ).map((r) => r.map(sigmoid));
  return scaleRows(xj, kind === 'copy1' ? col(w, 0) : w);
}

/** Attention logits `LeakyReLU(x_j · aSrc + x_i · aDst)`, `[E, H]` (or its first column). */
function tfScores(p: Params, heads: 1 | 2) {
  return (ctx: MessageContext) => {
    const s = tf.leakyRelu(
      tf.add(
        ctx.gatherSource(tf.matMul(ctx.x, t2(p.aSrc))),
        ctx.gatherTarget(tf.matMul(ctx.x, t2(p.aDst))),
      ),
      0.2,
    ) as tf.Tensor2D;
    return heads === 2 ? s : (tf.reshape(tf.slice(s, [0, 0], [-1, 1]), [-1]) as tf.Tensor1D);
  };
}

function refScores(p: Params, arcs: readonly RefArc[], heads: 1 | 2): Matrix {
  return arcs.map((a) =>
    Array.from({ length: heads }, (_, h) =>
      leaky(
        dot(p.x[a.source]!, col(p.aSrc, h).flat()) + dot(p.x[a.target]!, col(p.aDst, h).flat()),
      ),
    ),
  );
}

interface AggCase {
  label: string;
  tf: () => Aggregation;
  ref: (arcs: readonly RefArc[]) => RefAggregation;
  after?: (ref: Matrix) => Matrix;
}

function aggregationCases(p: Params, learned: tf.Variable): AggCase[] {
  const plain = ['sum', 'mean', 'max', 'min'] as const;
  return [
    ...plain.map((name) => ({ label: name, tf: () => name, ref: () => name })),
    { label: 'softmax', tf: () => 'softmax', ref: () => ({ softmax: true, t: [1] }) },
    {
      label: 'softmax, learnable per-channel temperature',
      tf: () => ({ kind: 'softmax', temperature: learned }),
      ref: () => ({ softmax: true, t: Array.from(learned.dataSync()) }),
    },
    {
      label: 'softmax, [E] scores, temperature 1.3',
      tf: () => ({ kind: 'softmax', scores: tfScores(p, 1), temperature: 1.3 }),
      ref: (arcs) => ({ softmax: true, scores: refScores(p, arcs, 1), t: [1.3] }),
    },
    {
      label: 'softmax, [E, H] scores, [H] temperature',
      tf: () => ({
        kind: 'softmax',
        scores: tfScores(p, 2),
        temperature: tf.tensor1d([0.8, -1.1]),
      }),
      ref: (arcs) => ({ softmax: true, scores: refScores(p, arcs, 2), t: [0.8, -1.1] }),
    },
    {
      label: 'custom (2 × sum)',
      tf: () => (m: tf.Tensor2D, ctx: MessageContext) =>
        tf.mul(segmentSum(m, ctx.targetIds, ctx.numNodes), 2),
      ref: () => 'sum',
      after: (r) => r.map((row) => row.map((v) => 2 * v)),
    },
  ];
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`propagate against the plain-JS reference on ${backend}`, () => {
    const learned = createSoftmaxAggregation({ temperature: 1, learn: true, channels: F });
    beforeAll(async () => {
      await initBackend({ backend });
      learned.temperature.assign(tf.tensor1d([0.5, 1.5, -0.3, 2]));
    });
    afterAll(() => learned.dispose());

    for (const directed of [true, false]) {
      for (const flow of ['source_to_target', 'target_to_source'] as Flow[]) {
        for (const selfLoops of [false, true]) {
          const label = `${directed ? 'directed' : 'undirected'}, ${flow}, ${selfLoops ? 'with' : 'without'} added self loops`;
          it(`every aggregation and message kind: ${label}`, () => {
            const graph = randomGraph(directed ? 11 : 12, directed);
            const rng = new SeededRandom(5);
            const p: Params = {
              x: mat(rng, N, F),
              e: mat(rng, graph.numEdges, D),
              w1: mat(rng, F, F),
              w2: mat(rng, F, F),
              w3: mat(rng, D, F),
              a: mat(rng, D, H),
              aSrc: mat(rng, F, H),
              aDst: mat(rng, F, H),
            };
            const arcs = referenceArcs(graph, p.e, flow, selfLoops);
            const run = (
              kind: MessageKind,
              agg: () => Aggregation,
              arcOrder: ArcOrder = 'graph',
            ): Float32Array =>
              tf.tidy(
                () =>
                  propagate(graph, {
                    x: t2(p.x),
                    edgeAttr: t2(p.e),
                    message: tfMessage(kind, p),
                    aggregate: agg(),
                    flow,
                    selfLoops,
                    arcOrder,
                  }).dataSync() as Float32Array,
              );
            run('copy', () => 'sum'); // builds the cached arc tensors
            const before = tf.memory().numTensors;
            for (const kind of MESSAGES) {
              const msgs = refMessages(kind, p, arcs);
              for (const c of aggregationCases(p, learned.temperature)) {
                let ref = referenceAggregate(N, arcs, msgs, c.ref(arcs));
                if (c.after !== undefined) ref = c.after(ref);
                for (const order of ['graph', 'target'] as const) {
                  const out = run(kind, c.tf, order);
                  expectArraysClose(out, ref.flat(), 1e-4, `${kind} / ${c.label} / ${order}`);
                }
              }
            }
            expect(tf.memory().numTensors).toBe(before);
            disposePropagateCache(graph);
          });
        }
      }
    }
  });
}
