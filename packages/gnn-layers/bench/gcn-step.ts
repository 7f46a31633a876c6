import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CsrGraph, type GraphDataset, isSparseFeatures } from '@plexus/graph-core';
import { SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { aggregationMatrix, createNodeClassifier, type LayerInput } from '../src/index.js';

/** Timed training steps per measurement (after 3 warm-up steps). */
export const EPOCHS = 20;

/** A node-classification workload of the GCN benchmarks. */
export interface Workload {
  name: string;
  graph: CsrGraph;
  features: NonNullable<CsrGraph['features']>;
  labels: Int32Array;
  train: Int32Array;
  numClasses: number;
}

/** A node-classification dataset (Cora) as a workload. */
export function datasetWorkload(name: string, ds: GraphDataset): Workload {
  return {
    name,
    graph: ds.graph,
    features: ds.graph.features!,
    labels: ds.graph.labels!,
    train: ds.split.train,
    numClasses: ds.numClasses,
  };
}

/** `m` uniformly random (src, dst) pairs over `n` nodes, from `rng`. */
export function randomGraph(n: number, m: number, rng: SeededRandom, directed: boolean): CsrGraph {
  const src = new Int32Array(m);
  const dst = new Int32Array(m);
  for (let e = 0; e < m; e++) {
    src[e] = rng.int(n);
    dst[e] = rng.int(n);
  }
  return CsrGraph.fromEdges(n, src, dst, { directed });
}

/** Writes `w` as raw little-endian arrays for the PyTorch peer (bench/torch_gcn.py). */
export function writeForTorch(w: Workload, dir: string): void {
  mkdirSync(dir, { recursive: true });
  const a = aggregationMatrix(w.graph, 'gcn');
  const put = (name: string, arr: Int32Array | Float32Array): void =>
    writeFileSync(
      join(dir, `${name}.bin`),
      new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength),
    );
  put('adj.indptr', a.indptr);
  put('adj.indices', a.indices);
  put('adj.weights', a.values!);
  const f = w.features;
  const sparse = isSparseFeatures(f);
  if (sparse) {
    // Row-normalised, as featuresToInput does for our side.
    const values = new Float32Array(f.values.length);
    for (let r = 0; r + 1 < f.indptr.length; r++) {
      let s = 0;
      for (let k = f.indptr[r]!; k < f.indptr[r + 1]!; k++) s += f.values[k]!;
      for (let k = f.indptr[r]!; k < f.indptr[r + 1]!; k++)
        values[k] = s === 0 ? 0 : f.values[k]! / s;
    }
    put('x.indptr', f.indptr);
    put('x.indices', f.indices);
    put('x.values', values);
  } else {
    put('x.dense', f.data);
  }
  put('labels', w.labels);
  put('train', w.train);
  writeFileSync(
    join(dir, 'meta.json'),
    JSON.stringify({
      numNodes: w.graph.numNodes,
      numFeatures: f.dim,
      numClasses: w.numClasses,
      hidden: 16,
      sparseFeatures: sparse,
      epochs: EPOCHS,
    }),
  );
}

/** Median ms of one GCN training step (forward, backward, Adam; ends in a loss readback) on the active backend. */
export async function timeOurs(w: Workload, x: LayerInput): Promise<number> {
  const model = createNodeClassifier('gcn', w.features.dim, w.numClasses, 0);
  const optimizer = tf.train.adam(0.01);
  const rng = new SeededRandom(1);
  const ctx = { training: true, nextSeed: () => rng.nextUint32() };
  const trainIdx = tf.tensor1d(w.train, 'int32');
  const y = tf.tidy(() =>
    tf.oneHot(
      tf.tensor1d(
        Int32Array.from(w.train, (i) => w.labels[i]!),
        'int32',
      ),
      w.numClasses,
    ),
  );
  // An asynchronous readback: WebGPU's synchronous one needs a canvas, which Node lacks.
  const step = async (): Promise<void> => {
    const loss = optimizer.minimize(
      () => {
        const logits = model.forward(w.graph, x, ctx);
        const ce = tf.losses.softmaxCrossEntropy(y, tf.gather(logits, trainIdx));
        return tf.add(
          ce,
          tf.mul(tf.addN(model.decayed.map((v) => tf.sum(tf.square(v)))), 5e-4 / 2),
        ) as tf.Scalar;
      },
      true,
      model.variables as tf.Variable[],
    );
    await loss!.data();
    loss!.dispose();
  };
  const { medianMs } = await timeRuns(step, EPOCHS, 3);
  tf.dispose([trainIdx, y]);
  optimizer.dispose();
  model.dispose();
  return medianMs;
}

/** Runs `step` `warmup` times untimed, then `runs` times: the median and every run, in ms. */
export async function timeRuns(
  step: () => Promise<void>,
  runs: number,
  warmup: number,
): Promise<{ medianMs: number; runsMs: number[] }> {
  for (let i = 0; i < warmup; i++) await step();
  const runsMs: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await step();
    runsMs.push(performance.now() - t0);
  }
  runsMs.sort((a, b) => a - b);
  return { medianMs: runsMs[Math.floor(runsMs.length / 2)]!, runsMs };
}
