// Worker entry of the parallel build: attaches to the shared vectors and
// graph, then links nodes taken from the shared task counter until none are
// left. Kept minimal so that it bundles to a small separate file.
import { parentPort, workerData } from 'node:worker_threads';
import { Builder, type BuildParams } from '../graph/builder.js';
import { G_NEXT_TASK, Graph, type GraphBuffers, type GraphShape } from '../graph/graph.js';
import { type StoreMemory, type StoreShape, VectorStore } from '../store/vector-store.js';

/** What the main thread sends each build worker. */
export interface WorkerJob {
  readonly memory: StoreMemory;
  readonly storeShape: StoreShape;
  readonly graphShape: GraphShape;
  readonly graphBuffers: GraphBuffers;
  readonly params: BuildParams;
  readonly slot: number;
  readonly first: number;
  readonly end: number;
}

if (
  parentPort !== null &&
  workerData !== null &&
  typeof workerData === 'object' &&
  'graphBuffers' in workerData
) {
  const job = workerData as WorkerJob;
  const store = VectorStore.attach(job.storeShape, job.memory);
  const graph = new Graph(job.graphShape, job.graphBuffers);
  const builder = new Builder(store, graph, job.slot, true, job.params);
  for (;;) {
    const id = job.first + Atomics.add(graph.globals, G_NEXT_TASK, 1);
    if (id >= job.end) break;
    builder.insert(id);
  }
  parentPort.postMessage('done');
}
