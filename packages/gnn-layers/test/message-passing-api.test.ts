import { CsrGraph } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { expectArraysClose } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Aggregation,
  createSoftmaxAggregation,
  disposePropagateCache,
  GnnLayersError,
  type MessageContext,
  MessagePassing,
  type PropagateOptions,
  propagate,
} from '../src/index.js';

const F = 4;
const rng = new SeededRandom(8);
const graphs = (directed: boolean): CsrGraph[] => [
  CsrGraph.fromEdges(4, [0, 1, 2, 2, 3], [1, 2, 0, 3, 3], { directed, dedupe: false }),
  CsrGraph.fromEdges(3, [], [], { directed }), // no arcs at all
  CsrGraph.fromEdges(5, [0, 0, 1, 3, 4, 4], [1, 1, 2, 4, 0, 2], { directed, dedupe: false }),
];

/** Aggregations exercised on batches: every built-in, with and without scores. */
const AGGREGATIONS: Array<[string, () => Aggregation]> = [
  ['sum', () => 'sum'],
  ['mean', () => 'mean'],
  ['max', () => 'max'],
  ['min', () => 'min'],
  ['softmax', () => 'softmax'],
  [
    'softmax with [E, 2] scores',
    () => ({
      kind: 'softmax',
      scores: (c: MessageContext) =>
        tf.add(
          tf.slice(c.xJ, [0, 0], [-1, 2]),
          tf.slice(c.edgeAttr!, [0, 1], [-1, 2]),
        ) as tf.Tensor2D,
    }),
  ],
];

const message = (c: MessageContext): tf.Tensor2D =>
  tf.mul(c.xJ, tf.sigmoid(tf.add(c.edgeAttr!, c.xI))) as tf.Tensor2D;

describe('propagate on block-diagonal batches', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  for (const directed of [true, false]) {
    for (const selfLoops of [false, true]) {
      it(`equals the per-graph results (${directed ? 'directed' : 'undirected'}, ${selfLoops ? 'with' : 'without'} self loops)`, () => {
        const parts = graphs(directed);
        const { graph } = CsrGraph.batch(parts);
        const xs = parts.map((g) => rng.fillNormal(new Float32Array(g.numNodes * F)));
        const es = parts.map((g) => rng.fillNormal(new Float32Array(g.numEdges * F)));
        const concat = (a: Float32Array[]): Float32Array =>
          Float32Array.from(a.flatMap((v) => Array.from(v)));
        for (const [label, agg] of AGGREGATIONS) {
          for (const msg of [message, undefined]) {
            const run = (g: CsrGraph, x: Float32Array, e: Float32Array): Float32Array =>
              tf.tidy(() => {
                const options: PropagateOptions = {
                  x: tf.tensor2d(x, [g.numNodes, F]),
                  edgeAttr: tf.tensor2d(e, [g.numEdges, F]),
                  aggregate: agg(),
                  selfLoops,
                  ...(msg === undefined ? {} : { message: msg }),
                };
                return propagate(g, options).dataSync() as Float32Array;
              });
            const whole = run(graph, concat(xs), concat(es));
            const each = concat(parts.map((g, i) => run(g, xs[i]!, es[i]!)));
            expectArraysClose(
              whole,
              each,
              1e-5,
              `${label}${msg === undefined ? ' (source copy)' : ''}`,
            );
          }
        }
        for (const g of [graph, ...parts]) disposePropagateCache(g);
      });
    }
  }

  it('gives zeros for every aggregation on a graph without arcs', () => {
    const g = CsrGraph.empty(3, true);
    for (const [, agg] of AGGREGATIONS.slice(0, 5)) {
      const out = tf.tidy(() =>
        propagate(g, { x: tf.ones([3, F]) as tf.Tensor2D, aggregate: agg() }).dataSync(),
      );
      expect(Array.from(out)).toEqual(new Array(3 * F).fill(0));
    }
    disposePropagateCache(g);
  });
});

describe('MessagePassing base class', () => {
  class Neighbours extends MessagePassing {}

  it('defaults to the sum of x_j, like PyG', async () => {
    await initBackend({ backend: 'cpu' });
    const g = CsrGraph.fromEdges(3, [0, 1], [1, 2], { directed: true });
    const layer = new Neighbours();
    const out = tf.tidy(() => layer.propagate(g, tf.tensor2d([[1], [2], [4]])).dataSync());
    expect(Array.from(out)).toEqual([0, 1, 2]);
    const reversed = new Neighbours({
      flow: 'target_to_source',
      aggregate: 'max',
      selfLoops: true,
    });
    const back = tf.tidy(() => reversed.propagate(g, tf.tensor2d([[1], [2], [4]])).dataSync());
    expect(Array.from(back)).toEqual([2, 4, 4]);
    disposePropagateCache(g);
  });

  it("lists arcs by target in 'target' arc order, in CSR order by default", () => {
    const g = CsrGraph.fromEdges(3, [0, 0, 1, 2], [2, 1, 2, 0], { directed: true });
    const seen: Record<string, number[][]> = {};
    for (const arcOrder of ['graph', 'target'] as const) {
      tf.tidy(() =>
        propagate(g, {
          x: tf.ones([3, 1]) as tf.Tensor2D,
          arcOrder,
          message: (c) => {
            seen[arcOrder] = [Array.from(c.source), Array.from(c.target)];
            expect(Array.from(c.targetIds.dataSync())).toEqual(Array.from(c.target));
            return c.xJ;
          },
        }),
      );
    }
    expect(seen.graph).toEqual([
      [0, 0, 1, 2],
      [1, 2, 2, 0],
    ]);
    expect(seen.target).toEqual([
      [2, 0, 0, 1],
      [0, 1, 2, 2],
    ]);
    disposePropagateCache(g);
  });

  it('rejects an unknown aggregation at construction', () => {
    expect(() => new Neighbours({ aggregate: 'median' as 'sum' })).toThrow(
      /^@plexus\/gnn-layers\/message-passing: aggregate must be one of 'sum', 'mean', 'max', 'min', 'softmax', a softmax aggregation \(\{ kind: 'softmax' \}\) or a function, got 'median'$/,
    );
  });
});

describe('softmax aggregation', () => {
  it('owns a temperature variable, trainable only when asked', () => {
    const fixed = createSoftmaxAggregation({ temperature: 2 });
    const learned = createSoftmaxAggregation({ temperature: 0.5, learn: true, channels: 3 });
    expect(fixed.variables).toHaveLength(0);
    expect(fixed.temperature.trainable).toBe(false);
    expect(learned.variables).toEqual([learned.temperature]);
    expect(Array.from(learned.temperature.dataSync())).toEqual([0.5, 0.5, 0.5]);
    const before = tf.memory().numTensors;
    fixed.dispose();
    learned.dispose();
    expect(tf.memory().numTensors).toBe(before - 2);
  });

  it('applies attention dropout reproducibly from its seed', () => {
    const g = CsrGraph.fromEdges(4, [0, 1, 2, 3, 0], [1, 2, 3, 0, 2]);
    const run = (dropout: number, seed: number): number[] =>
      tf.tidy(() =>
        Array.from(
          propagate(g, {
            x: tf.tensor2d([1, 2, 3, 4, 5, 6, 7, 8], [4, 2]),
            aggregate: { kind: 'softmax', dropout, seed },
          }).dataSync(),
        ),
      );
    expect(run(0.5, 3)).toEqual(run(0.5, 3));
    expect(run(0.5, 3)).not.toEqual(run(0, 3));
    disposePropagateCache(g);
  });
});

describe('propagate rejects bad input with clear errors', () => {
  const g = CsrGraph.fromEdges(3, [0, 1, 2, 0], [1, 2, 0, 2], { directed: true }); // 4 arcs
  const prefix = '@plexus/gnn-layers/message-passing: ';
  const x = (): tf.Tensor2D => tf.ones([3, F]) as tf.Tensor2D;
  const cases: Array<[string, () => PropagateOptions | 'class', RegExp]> = [
    [
      'x with the wrong row count',
      () => ({ x: tf.ones([2, F]) as tf.Tensor2D }),
      /x must be a float32 \[3, F\] \(numNodes, F\) tensor, got float32 \[2, 4\]/,
    ],
    [
      'int32 x',
      () => ({ x: tf.ones([3, F], 'int32') as tf.Tensor2D }),
      /x must be a float32 \[3, F\].*got int32 \[3, 4\]/,
    ],
    [
      'edge attributes with the wrong row count',
      () => ({ x: x(), edgeAttr: tf.ones([5, 2]) as tf.Tensor2D }),
      /edgeAttr must be a float32 \[4, F\] \(numArcs in CSR order, F\) tensor, got float32 \[5, 2\]/,
    ],
    [
      'an unknown flow',
      () => ({ x: x(), flow: 'sideways' as 'source_to_target' }),
      /flow must be 'source_to_target' or 'target_to_source', got 'sideways'/,
    ],
    [
      'an unknown arc order',
      () => ({ x: x(), arcOrder: 'random' as 'graph' }),
      /arcOrder must be 'graph' or 'target', got 'random'/,
    ],
    [
      'an unknown aggregation',
      () => ({ x: x(), aggregate: 'median' as 'sum' }),
      /aggregate must be one of .* got 'median'/,
    ],
    [
      'a message with one row per node',
      () => ({ x: x(), message: (c) => c.x }),
      /message output must be a float32 \[4, F\] \(numArcs, F\) tensor, got float32 \[3, 4\]/,
    ],
    [
      'a message that is not a tensor',
      () => ({ x: x(), message: () => 42 as unknown as tf.Tensor2D }),
      /message output must be a float32 \[4, F\].*got number/,
    ],
    [
      'copy weights with the wrong length',
      () => ({ x: x(), message: (c) => c.copySource(tf.ones([5]) as tf.Tensor1D) }),
      /copySource weights must be float32 \[4\] or \[4, H\] \(one row per arc\), got float32 \[5\]/,
    ],
    [
      'copy weights whose heads do not divide F',
      () => ({ x: x(), message: (c) => c.copySource(tf.ones([4, 3]) as tf.Tensor2D) }),
      /3 weight columns \(heads\) must divide the 4 message columns into equal blocks/,
    ],
    [
      'copy features of the wrong shape',
      () => ({ x: x(), message: (c) => c.copySource(undefined, tf.ones([5, 2]) as tf.Tensor2D) }),
      /copySource features must be a float32 \[3, F\] \(numNodes, F\) tensor, got float32 \[5, 2\]/,
    ],
    [
      'softmax scores with the wrong row count',
      () => ({ x: x(), aggregate: { kind: 'softmax', scores: () => tf.ones([7]) as tf.Tensor1D } }),
      /softmax scores must be float32 \[4\] or \[4, H\] \(one row per arc\), got float32 \[7\]/,
    ],
    [
      'softmax scores whose heads do not divide F',
      () => ({
        x: x(),
        aggregate: { kind: 'softmax', scores: () => tf.ones([4, 3]) as tf.Tensor2D },
      }),
      /3 weight columns \(heads\) must divide the 4 message columns/,
    ],
    [
      'a temperature of the wrong shape',
      () => ({ x: x(), aggregate: { kind: 'softmax', temperature: tf.ones([3]) } }),
      /softmax temperature must have shape \[\], \[1\] or \[4\] \(one per score column\), got \[3\]/,
    ],
    [
      'a non-finite temperature',
      () => ({ x: x(), aggregate: { kind: 'softmax', temperature: Number.NaN } }),
      /softmax temperature must be finite, got NaN/,
    ],
    [
      'attention dropout of 1',
      () => ({ x: x(), aggregate: { kind: 'softmax', dropout: 1 } }),
      /softmax dropout must be in \[0, 1\), got 1/,
    ],
    [
      'a custom aggregate with the wrong row count',
      () => ({ x: x(), message: (c) => c.xJ, aggregate: (m) => m }),
      /a custom aggregate must return \[3, F\] \(one row per node\), got float32 \[4, 4\]/,
    ],
    [
      'gatherSource of a non-node tensor',
      () => ({ x: x(), message: (c) => c.gatherSource(tf.ones([2, F]) as tf.Tensor2D) }),
      /gatherSource needs a tensor with one row per node \(3\), got shape \[2, 4\]/,
    ],
  ];

  beforeAll(async () => {
    await initBackend({ backend: 'cpu' });
    tf.tidy(() => propagate(g, { x: x() })); // builds the cached arc tensors
  });

  for (const [label, make, pattern] of cases) {
    it(`names the problem: ${label}`, () => {
      const before = tf.memory().numTensors;
      let error: unknown;
      tf.tidy(() => {
        try {
          propagate(g, make() as PropagateOptions);
        } catch (e) {
          error = e;
        }
      });
      expect(GnnLayersError.isInstance(error)).toBe(true);
      expect((error as Error).message.startsWith(prefix)).toBe(true);
      expect((error as Error).message).toMatch(pattern);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('names a graph that is not a CsrGraph', () => {
    const x = tf.ones([3, F]) as tf.Tensor2D;
    expect(() => propagate({} as CsrGraph, { x })).toThrow(
      `${prefix}graph must be a CsrGraph from @plexus/graph-core, got object`,
    );
    x.dispose();
  });

  it('validates softmax aggregation options', () => {
    expect(() => createSoftmaxAggregation({ channels: 0 })).toThrow(
      `${prefix}channels must be a positive integer, got 0`,
    );
    expect(() => createSoftmaxAggregation({ temperature: Number.POSITIVE_INFINITY })).toThrow(
      `${prefix}temperature must be a finite number, got Infinity`,
    );
  });
});
