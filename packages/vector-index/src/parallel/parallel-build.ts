import { VectorIndexError } from '../errors.js';
import { G_ENTRY, G_NEXT_TASK } from '../graph/graph.js';
import type { HnswState } from '../hnsw-state.js';
import { drawLevel } from '../random.js';
import type { WorkerJob } from './build-worker.js';

/** Options of a parallel build. */
export interface ParallelOptions {
  /** Worker threads (default: `os.availableParallelism()`). */
  readonly threads?: number;
}

/**
 * Start the worker script beside this module: `.js`/`.cjs` from the built
 * package; `.ts` when running from source (tests), where the worker first
 * registers tsx, which Node 20 does not pass on to workers via execArgv.
 */
function startWorker(
  Worker: typeof import('node:worker_threads').Worker,
  workerData: WorkerJob,
): import('node:worker_threads').Worker {
  const here = import.meta.url;
  const ext = here.slice(here.lastIndexOf('.'));
  const url = new URL(`./build-worker${ext}`, here);
  if (ext !== '.ts') return new Worker(url, { workerData });
  const boot = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`;
  return new Worker(boot, { eval: true, workerData });
}

/**
 * Insert a validated batch with worker threads. Vectors, labels and levels
 * are written on this thread first (so levels follow the seed exactly as in
 * a sequential build); the workers then link nodes taken from a shared
 * atomic counter, all writing the one shared graph.
 */
export async function parallelInsert(
  state: HnswState,
  labels: ArrayLike<number>,
  row: (i: number) => { data: ArrayLike<number>; offset: number },
  options: ParallelOptions,
): Promise<void> {
  const n = labels.length;
  if (n === 0) return;
  const { availableParallelism } = await import('node:os');
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1 || threads > 256) {
    throw new VectorIndexError(
      'parallel',
      `threads must be an integer in [1, 256], got ${String(threads)}`,
    );
  }
  state.ensureCapacity(state.count + n, threads + 1);
  const start = state.count;
  const { store, graph } = state;
  for (let i = 0; i < n; i++) {
    const id = start + i;
    const r = row(i);
    store.writeVector('parallel', id, r.data, r.offset);
    state.labels[id] = labels[i]!;
    state.idOf.set(labels[i]!, id);
    graph.assignLevel(id, drawLevel(state.rng, state.config.levelMultiplier));
  }
  state.count += n;
  let first = start;
  if (graph.globals[G_ENTRY]! < 0) state.builder.insert(first++);
  const end = start + n;
  if (threads === 1 || end - first < 2 * threads) {
    for (let id = first; id < end; id++) state.builder.insert(id);
    return;
  }
  const { Worker } = await import('node:worker_threads');
  Atomics.store(graph.globals, G_NEXT_TASK, 0);
  const jobs: Promise<void>[] = [];
  for (let t = 0; t < threads; t++) {
    const job: WorkerJob = {
      memory: store.memory,
      storeShape: store.shape,
      graphShape: { capacity: graph.capacity, M: graph.M, M0: graph.M0 },
      graphBuffers: graph.buffers,
      params: state.config,
      slot: t + 1,
      first,
      end,
    };
    const worker = startWorker(Worker, job);
    jobs.push(
      new Promise<void>((resolve, reject) => {
        let done = false;
        worker.once('message', () => {
          done = true;
          resolve();
        });
        worker.once('error', (error) =>
          reject(
            new VectorIndexError('parallel', `build worker ${t} failed: ${error.message}`, {
              cause: error,
            }),
          ),
        );
        worker.once('exit', (code) => {
          if (!done)
            reject(
              new VectorIndexError(
                'parallel',
                `build worker ${t} exited with code ${code} before finishing`,
              ),
            );
        });
      }).finally(() => worker.terminate()),
    );
  }
  await Promise.all(jobs);
}
