import { parentPort, Worker, workerData } from 'node:worker_threads';
import { PlexusCollectivesError } from './errors.js';
import {
  type CreateThreadGroupOptions,
  createThreadGroup,
  type JoinThreadGroupOptions,
  joinThreadGroup,
  type ThreadGroupDescriptor,
} from './thread-group.js';
import type { CollectiveGroupV1 } from './types.js';

const MODULE = 'spawn';
const KEY = '__plexusCollectives';

interface WorkerPayload {
  descriptor: ThreadGroupDescriptor;
  rank: number;
  timeoutMs: number | undefined;
  data: unknown;
}

type WorkerMessage =
  | { type: 'result'; value: unknown }
  | { type: 'error'; name: string; message: string; code?: string };

/** Options for `spawnThreadGroup`. */
export interface SpawnThreadGroupOptions extends CreateThreadGroupOptions, JoinThreadGroupOptions {
  /** Passed to every worker; read it as the second argument of the `serveThreadGroupWorker` callback. */
  workerData?: unknown;
  /** `execArgv` of each worker, e.g. `['--import', 'tsx']` for a TypeScript worker file. */
  execArgv?: string[];
  /** Ranks to start (default all). Starting fewer simulates ranks that never join. */
  ranks?: number[];
}

/** A running group of worker threads; see `spawnThreadGroup`. */
export interface SpawnedThreadGroup {
  readonly descriptor: ThreadGroupDescriptor;
  readonly workers: readonly Worker[];
  /**
   * The value each started worker's callback returned, in the order of `ranks`.
   * Rejects if a worker's callback threw or a worker exited without a result.
   */
  readonly results: Promise<unknown[]>;
  /** Terminates every worker (safe to call more than once). */
  terminate(): Promise<void>;
}

/**
 * Starts one worker thread per rank on `workerFile`, which must call
 * `serveThreadGroupWorker`. Always call `terminate()` (e.g. in `finally`).
 */
export function spawnThreadGroup(
  worldSize: number,
  workerFile: string | URL,
  options: SpawnThreadGroupOptions = {},
): SpawnedThreadGroup {
  const descriptor = createThreadGroup(worldSize, options);
  const ranks = options.ranks ?? Array.from({ length: worldSize }, (_, i) => i);
  const workers: Worker[] = [];
  const pending: Promise<unknown>[] = [];
  for (const rank of ranks) {
    const payload: WorkerPayload = {
      descriptor,
      rank,
      timeoutMs: options.timeoutMs,
      data: options.workerData,
    };
    const worker = new Worker(workerFile, {
      workerData: { [KEY]: payload },
      ...(options.execArgv ? { execArgv: options.execArgv } : {}),
    });
    workers.push(worker);
    pending.push(
      new Promise((resolve, reject) => {
        let settled = false;
        worker.on('message', (msg: WorkerMessage) => {
          if (settled) return;
          settled = true;
          if (msg.type === 'result') resolve(msg.value);
          else
            reject(
              new PlexusCollectivesError(
                MODULE,
                'broken',
                `rank ${rank} failed: ${msg.name}: ${msg.message}`,
              ),
            );
        });
        worker.on('error', (error) => {
          if (settled) return;
          settled = true;
          reject(
            new PlexusCollectivesError(MODULE, 'broken', `rank ${rank} crashed`, { cause: error }),
          );
        });
        worker.on('exit', (code) => {
          if (settled) return;
          settled = true;
          reject(
            new PlexusCollectivesError(
              MODULE,
              'broken',
              `rank ${rank} exited with code ${code} before returning a result`,
            ),
          );
        });
      }),
    );
  }
  const results = Promise.all(pending);
  results.catch(() => undefined); // the caller may only care about terminate()
  return {
    descriptor,
    workers,
    results,
    async terminate() {
      await Promise.all(workers.map((w) => w.terminate()));
    },
  };
}

/**
 * Worker side of `spawnThreadGroup`: joins the group and posts what `fn`
 * returns (structured-cloneable) back to the parent.
 */
export function serveThreadGroupWorker(
  fn: (group: CollectiveGroupV1, data: unknown) => unknown | Promise<unknown>,
): void {
  const payload = (workerData as Record<string, WorkerPayload> | null)?.[KEY];
  if (!parentPort || !payload) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      'serveThreadGroupWorker must run in a worker started by spawnThreadGroup',
    );
  }
  const port = parentPort;
  const group = joinThreadGroup(payload.descriptor, payload.rank, {
    ...(payload.timeoutMs !== undefined ? { timeoutMs: payload.timeoutMs } : {}),
  });
  Promise.resolve()
    .then(() => fn(group, payload.data))
    .then(
      (value) => port.postMessage({ type: 'result', value } satisfies WorkerMessage),
      (error: unknown) => {
        const e = error as { name?: string; message?: string; code?: string };
        port.postMessage({
          type: 'error',
          name: String(e?.name ?? 'Error'),
          message: String(e?.message ?? error),
          ...(typeof e?.code === 'string' ? { code: e.code } : {}),
        } satisfies WorkerMessage);
      },
    );
}
