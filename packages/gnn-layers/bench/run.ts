import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDataset } from '@plexus/graph-core';
import { initBackend, SeededRandom } from '@plexus/tensor';
import { disposeInput, featuresToInput } from '../src/index.js';
import {
  datasetWorkload,
  randomGraph,
  timeOurs,
  type Workload,
  writeForTorch,
} from './gcn-step.js';

// GCN training-step time (forward + backward + Adam) per backend, beside the
// same GCN in PyTorch (CPU, one thread) on the same arrays, in one run.
const here = dirname(fileURLToPath(import.meta.url));
const tmp = join(here, '.tmp');

function cora(): Workload {
  return datasetWorkload('cora', loadDataset('cora'));
}

/** A random undirected graph with 1M edges (2M stored arcs), 100k nodes, 64 dense features, 8 classes. */
function synthetic(): Workload {
  const n = 100_000;
  const m = 1_000_000;
  const rng = new SeededRandom(5);
  const graph = randomGraph(n, m, rng, false);
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
    const ms = await timeOurs(w, x);
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
