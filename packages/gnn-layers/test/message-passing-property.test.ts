import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Aggregation,
  disposePropagateCache,
  type MessageContext,
  propagate,
} from '../src/index.js';
import {
  type Matrix,
  type RefAggregation,
  type RefArc,
  referenceAggregate,
  referenceArcs,
  scaleRows,
} from './message-passing-reference.js';

// Property: on any small graph (including no nodes, no arcs, loops and
// multi-edges), every aggregation of every message kind equals the plain-JS
// reference, in both flows and arc orders, with and without added loops.
const F = 2;

const AGGS = ['sum', 'mean', 'max', 'min', 'softmax', 'scored'] as const;
const KINDS = ['tensor', 'copy', 'copy2'] as const;

const sigmoid = (v: number): number => 1 / (1 + Math.exp(-v));

function tfMessage(kind: (typeof KINDS)[number]) {
  return (c: MessageContext) =>
    kind === 'tensor'
      ? (tf.mul(c.xJ, tf.tanh(tf.add(c.xI, c.edgeAttr!))) as tf.Tensor2D)
      : kind === 'copy'
        ? c.copySource()
        : c.copySource(tf.sigmoid(c.edgeAttr!) as tf.Tensor2D);
}

function refMessages(kind: (typeof KINDS)[number], x: Matrix, arcs: readonly RefArc[]): Matrix {
  const xj = arcs.map((a) => x[a.source]!);
  if (kind === 'copy') return xj;
  if (kind === 'copy2')
    return scaleRows(
      xj,
      arcs.map((a) => a.e.map(sigmoid)),
    );
  return arcs.map((a) => x[a.source]!.map((v, k) => v * Math.tanh(x[a.target]![k]! + a.e[k]!)));
}

function tfAggregation(name: (typeof AGGS)[number]): Aggregation {
  if (name !== 'scored') return name;
  return {
    kind: 'softmax',
    temperature: 0.9,
    scores: (c) => tf.sum(tf.mul(c.xJ, c.edgeAttr!), 1) as tf.Tensor1D,
  };
}

function refAggregation(
  name: (typeof AGGS)[number],
  x: Matrix,
  arcs: readonly RefArc[],
): RefAggregation {
  if (name === 'softmax') return { softmax: true, t: [1] };
  if (name !== 'scored') return name;
  const scores = arcs.map((a) => [x[a.source]!.reduce((s, v, k) => s + v * a.e[k]!, 0)]);
  return { softmax: true, scores, t: [0.9] };
}

const caseArb = fc.integer({ min: 0, max: 7 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges:
      n === 0
        ? fc.constant([] as [number, number][])
        : fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 12 }),
    directed: fc.boolean(),
    flow: fc.constantFrom('source_to_target' as const, 'target_to_source' as const),
    selfLoops: fc.boolean(),
    arcOrder: fc.constantFrom('graph' as const, 'target' as const),
    seed: fc.nat(1000),
  }),
);

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`propagate on arbitrary small graphs on ${backend}`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    it('matches the reference for every aggregation and message kind', () => {
      fc.assert(
        fc.property(caseArb, (c) => {
          const graph = CsrGraph.fromEdges(
            c.n,
            c.edges.map((e) => e[0]),
            c.edges.map((e) => e[1]),
            { directed: c.directed, dedupe: false },
          );
          const rng = new SeededRandom(c.seed);
          const normal = (rows: number): Matrix =>
            Array.from({ length: rows }, () => Array.from(rng.fillNormal(new Float32Array(F))));
          const x = normal(c.n);
          const e = normal(graph.numEdges);
          const arcs = referenceArcs(graph, e, c.flow, c.selfLoops);
          const before = tf.memory().numTensors;
          for (const kind of KINDS) {
            const msgs = refMessages(kind, x, arcs);
            for (const agg of AGGS) {
              const out = tf.tidy(
                () =>
                  propagate(graph, {
                    x: tf.tensor2d(x.flat(), [c.n, F]),
                    edgeAttr: tf.tensor2d(e.flat(), [graph.numEdges, F]),
                    message: tfMessage(kind),
                    aggregate: tfAggregation(agg),
                    flow: c.flow,
                    selfLoops: c.selfLoops,
                    arcOrder: c.arcOrder,
                  }).dataSync() as Float32Array,
              );
              const ref = referenceAggregate(c.n, arcs, msgs, refAggregation(agg, x, arcs), F);
              expectArraysClose(out, ref.flat(), 1e-4, `${kind} / ${agg}`);
            }
          }
          disposePropagateCache(graph);
          expect(tf.memory().numTensors).toBe(before);
        }),
        { numRuns: 25, seed: 20261126 },
      );
    });
  });
}
