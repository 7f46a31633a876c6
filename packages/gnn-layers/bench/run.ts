import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CsrGraph, type GraphDataset, isSparseFeatures, loadDataset } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  aggregationMatrix,
  createNodeClassifier,
  disposeInput,
  featuresToInput,
  type LayerInput,
} from '../src/index.js';

// GCN training-step time (forward + backward + Adam) per backend, beside the
// same GCN in PyTorch (CPU, one thread) on the same arrays, in one run.
const here = dirname(fileURLToPath(import.meta.url));
const tmp = join(here, '.tmp');
const EPOCHS = 20;

interface Workload {
  name: string;
  graph: CsrGraph;
  features: NonNullable<CsrGraph['features']>;
  labels: Int32Array;
  train: Int32Array;
  numClasses: number;
}

function cora(): Workload {
  const ds: GraphDataset = loadDataset('cora');
  return {
    name: 'cora',
    graph: ds.graph,
    features: ds.graph.features!,
    labels: ds.graph.labels!,
    train: ds.split.train,
    numClasses: ds.numClasses,
  };
}

/** A random undirected graph with 1M edges (2M stored arcs), 100k nodes, 64 dense features, 8 classes. */
function synthetic(): Workload {
  const n = 100_000;
  const m = 1_000_000;
  const rng = new SeededRandom(5);
  const src = new Int32Array(m);
  const dst = new Int32Array(m);
  for (let e = 0; e < m; e++) {
    src[e] = rng.int(n);
    dst[e] = rng.int(n);
  }
  const graph = CsrGraph.fromEdges(n, src, dst, { directed: false });
  const data = rng.fillNormal(new Float32Array(n * 64));
  const labels = Int32Array.from({ length: n }, () => rng.int(8));
  const train = Int32Array.from({ length: 2000 }, (_, i) => i * 50);
  return {
    name: 'random-1M-edges',
    graph,
    features: { data, dim: 64 },
    labels,
    train,
    numClasses: 8,
  };
}

function writeForTorch(w: Workload, dir: string): void {
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

function timeOurs(w: Workload, x: LayerInput): number {
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
  const step = (): void => {
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
    loss!.dataSync();
    loss!.dispose();
  };
  for (let i = 0; i < 3; i++) step();
  const times: number[] = [];
  for (let i = 0; i < EPOCHS; i++) {
    const t0 = performance.now();
    step();
    times.push(performance.now() - t0);
  }
  tf.dispose([trainIdx, y]);
  optimizer.dispose();
  model.dispose();
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const rows: Array<Record<string, unknown>> = [];
for (const make of [cora, synthetic]) {
  const w = make();
  process.stderr.write(`${w.name}: PyTorch peer...\n`);
  const dir = join(tmp, w.name);
  writeForTorch(w, dir);
  let torchMs: number | undefined;
  let torchNote: string | undefined;
  try {
    const out = execFileSync('/usr/bin/python3', [join(here, 'torch_gcn.py'), dir], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    torchMs = (JSON.parse(out) as { medianMs: number }).medianMs;
  } catch (error) {
    torchNote = `PyTorch peer unavailable: ${String(error).split('\n')[0]}`;
  }
  // tfjs' cpu backend runs dense matmuls in plain JS: on the 1M-edge graph an
  // epoch takes seconds there, so only wasm is measured on it.
  for (const backend of w.name === 'cora' ? (['cpu', 'wasm'] as const) : (['wasm'] as const)) {
    process.stderr.write(`${w.name}: ${backend}...\n`);
    await initBackend({ backend });
    const x = featuresToInput(w.features, w.graph.numNodes);
    const ms = timeOurs(w, x);
    disposeInput(x);
    rows.push({
      workload: w.name,
      nodes: w.graph.numNodes,
      arcs: w.graph.numEdges,
      backend,
      ourMsPerEpoch: ms,
      torchMsPerEpoch: torchMs,
      ratioToTorch: torchMs === undefined ? undefined : ms / torchMs,
      note: torchNote,
    });
  }
}
const result = {
  benchmark: 'GCN training step (forward + backward + Adam), median of 20',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, node: process.version },
  target: 'ratioToTorch <= 2',
  rows,
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'gcn-epoch.json'), `${JSON.stringify(result, null, 2)}\n`);
console.table(rows);
