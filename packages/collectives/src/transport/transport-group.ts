import { barrier } from '../algorithms/barrier.js';
import {
  allReduce,
  allToAll,
  allToAllV,
  type CollectiveOptions,
} from '../algorithms/collectives.js';
import { ringAllGather, ringReduceScatter } from '../algorithms/ring.js';
import { recvArray, sendArray } from '../algorithms/send-recv.js';
import { checkSplitCounts } from '../algorithms/split-counts.js';
import { subGroup } from '../algorithms/sub-group.js';
import type { Topology } from '../algorithms/topology.js';
import { treeBroadcast } from '../algorithms/tree.js';
import { PlexusCollectivesError } from '../errors.js';
import { checkOp } from '../reduce.js';
import { dtypeOf } from '../reduction/dtype.js';
import type {
  AsyncCallOptions,
  CollectiveCallOptions,
  ExtendedCollectiveGroupV1,
  GroupAllToAllVResult,
  GroupBuffer,
  ReduceOp,
  Work,
} from '../types.js';
import type { PointToPointV1 } from './point-to-point.js';
import { checkInt } from './thread-transport.js';

/** Options for `createTransportGroup`. */
export interface TransportGroupOptions {
  /** Default per-call timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
  /** Module named in error messages (default `transport-group`). */
  module?: string;
  /**
   * Algorithm choice for all-reduce and all-to-all: `algorithm` (`auto` by
   * default: by message size and topology), `topology` (ranks per host,
   * for HO-Ring and the hierarchical all-to-all), `reducer` and `chunkBytes`
   * (the ring's message size, default 4 MiB).
   */
  collectives?: Pick<CollectiveOptions, 'algorithm' | 'topology' | 'reducer' | 'chunkBytes'>;
  /**
   * An all-reduce specialised for the transport (the shared-memory
   * transport's zero-copy path), run instead of the generic algorithms.
   * Sub-groups do not inherit it.
   */
  allReduce?: TransportAllReduce;
}

/** A transport-specific all-reduce: in place, within `timeoutMs`. */
export type TransportAllReduce = <T extends GroupBuffer>(
  buf: T,
  op: ReduceOp,
  options: { timeoutMs: number },
) => Promise<T>;

/** Remaining time until `deadline`, as a call option (at least 1 ms). */
function left(deadline: number): { timeoutMs: number } {
  return { timeoutMs: Math.max(1, deadline - performance.now()) };
}

/** Hosts of `members`, renumbered from 0 in order of first appearance. */
function subTopology(hostOf: readonly number[], members: readonly number[]): Topology {
  const renumber = new Map<number, number>();
  return {
    hostOf: members.map((m) => {
      const h = hostOf[m] ?? m;
      if (!renumber.has(h)) renumber.set(h, renumber.size);
      return renumber.get(h)!;
    }),
  };
}

/** A `Work` over a queued call's promise; observing it keeps an unawaited failure from being unhandled. */
class PromiseWork<T> implements Work<T> {
  private state: 'pending' | 'ok' | 'failed' = 'pending';

  constructor(private readonly promise: Promise<T>) {
    promise.then(
      () => {
        this.state = 'ok';
      },
      () => {
        this.state = 'failed';
      },
    );
  }

  wait(): Promise<T> {
    return this.promise;
  }

  isCompleted(): boolean {
    return this.state !== 'pending';
  }

  isSuccess(): boolean {
    return this.state === 'ok';
  }
}

/**
 * The call queue and broken flag, shared by a group and its sub-groups: they
 * use one transport, whose per-pair channels are FIFO, so their calls must
 * not interleave.
 */
interface Scheduler {
  queue: Promise<unknown>;
  brokenBy: PlexusCollectivesError | undefined;
}

/**
 * `CollectiveGroupV1` over any `PointToPointV1` transport, running the
 * algorithm functions of `src/algorithms`: all-reduce chosen by size and
 * topology (recursive halving-doubling for small buffers, ring
 * reduce-scatter + all-gather for large ones, HO-Ring across hosts), ring
 * reduce-scatter and all-gather, binomial-tree broadcast, flat or
 * hierarchical all-to-all, dissemination barrier. Calls run one at a time in
 * call order; after any failure the group is broken and every later call
 * rejects with `broken`, so a result is never silently wrong.
 */
class TransportGroup implements ExtendedCollectiveGroupV1 {
  readonly specificationVersion = 'v1' as const;
  readonly rank: number;
  readonly worldSize: number;
  private readonly module: string;
  private readonly defaultTimeoutMs: number;
  private readonly choice: TransportGroupOptions['collectives'];

  constructor(
    private readonly transport: PointToPointV1,
    private readonly options: TransportGroupOptions,
    private readonly scheduler: Scheduler = { queue: Promise.resolve(), brokenBy: undefined },
  ) {
    this.rank = transport.rank;
    this.worldSize = transport.worldSize;
    this.module = options.module ?? 'transport-group';
    this.defaultTimeoutMs = options.timeoutMs ?? 30_000;
    this.choice = options.collectives;
  }

  private fail(code: 'invalid-argument', message: string): never {
    throw new PlexusCollectivesError(this.module, code, message);
  }

  private checkBuffer(buf: unknown): asserts buf is GroupBuffer {
    if (dtypeOf(buf) === undefined) {
      const got =
        typeof buf === 'object' && buf !== null ? (buf.constructor?.name ?? 'object') : typeof buf;
      this.fail(
        'invalid-argument',
        `expected a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got ${got}`,
      );
    }
  }

  private checkPeer(name: string, peer: unknown, allowSelf: boolean): number {
    const p = checkInt(this.module, name, peer, 0, this.worldSize - 1);
    if (!allowSelf && p === this.rank)
      this.fail('invalid-argument', `${name} must not be this rank`);
    return p;
  }

  /** Queues the call; a `Work` handle when `options.async` is true, else its promise. */
  private issue<R>(
    what: string,
    options: CollectiveCallOptions | AsyncCallOptions | undefined,
    body: (deadline: number) => Promise<R>,
  ): Promise<R> | Work<R> {
    const async = (options as Partial<AsyncCallOptions> | undefined)?.async;
    if (async !== undefined && typeof async !== 'boolean') {
      this.fail('invalid-argument', `expected options.async to be a boolean, got ${typeof async}`);
    }
    const result = this.run(what, options, body);
    return async ? new PromiseWork(result) : result;
  }

  private run<R>(
    what: string,
    options: CollectiveCallOptions | undefined,
    body: (deadline: number) => Promise<R>,
  ): Promise<R> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      return Promise.reject(
        new PlexusCollectivesError(
          this.module,
          'invalid-argument',
          `expected timeoutMs > 0, got ${String(timeoutMs)}`,
        ),
      );
    }
    const start = async (): Promise<R> => {
      if (this.scheduler.brokenBy) {
        throw new PlexusCollectivesError(
          this.module,
          'broken',
          `${what} on rank ${this.rank}: the group is broken by an earlier failure (${this.scheduler.brokenBy.message})`,
          { cause: this.scheduler.brokenBy },
        );
      }
      try {
        return await body(performance.now() + timeoutMs);
      } catch (error) {
        const wrapped = PlexusCollectivesError.isInstance(error)
          ? new PlexusCollectivesError(
              this.module,
              error.code,
              `${what} on rank ${this.rank} failed: ${error.message}`,
              { cause: error },
            )
          : new PlexusCollectivesError(
              this.module,
              'broken',
              `${what} on rank ${this.rank} failed`,
              { cause: error },
            );
        this.scheduler.brokenBy = wrapped;
        throw wrapped;
      }
    };
    const result = this.scheduler.queue.then(start, start);
    this.scheduler.queue = result.catch(() => undefined);
    return result;
  }

  allReduce<T extends GroupBuffer>(buf: T, op: ReduceOp, options: AsyncCallOptions): Work<T>;
  allReduce<T extends GroupBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  allReduce<T extends GroupBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions | AsyncCallOptions,
  ): Promise<T> | Work<T> {
    this.checkBuffer(buf);
    checkOp(op);
    const special = this.options.allReduce;
    return this.issue('allReduce', options, (deadline) =>
      special !== undefined
        ? special(buf, op, left(deadline))
        : allReduce(this.transport, buf, op, { ...this.choice, ...left(deadline) }),
    );
  }

  reduceScatter<T extends GroupBuffer>(buf: T, op: ReduceOp, options: AsyncCallOptions): Work<T>;
  reduceScatter<T extends GroupBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  reduceScatter<T extends GroupBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions | AsyncCallOptions,
  ): Promise<T> | Work<T> {
    this.checkBuffer(buf);
    checkOp(op);
    return this.issue('reduceScatter', options, (deadline) =>
      ringReduceScatter(this.transport, buf, op, { ...this.choice, ...left(deadline) }),
    );
  }

  broadcast<T extends GroupBuffer>(buf: T, root: number, options: AsyncCallOptions): Work<T>;
  broadcast<T extends GroupBuffer>(
    buf: T,
    root: number,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  broadcast<T extends GroupBuffer>(
    buf: T,
    root: number,
    options?: CollectiveCallOptions | AsyncCallOptions,
  ): Promise<T> | Work<T> {
    this.checkBuffer(buf);
    this.checkPeer('root', root, true);
    return this.issue('broadcast', options, (deadline) =>
      treeBroadcast(this.transport, buf, root, left(deadline)),
    );
  }

  allGather<T extends GroupBuffer>(buf: T, options: AsyncCallOptions): Work<T>;
  allGather<T extends GroupBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T>;
  allGather<T extends GroupBuffer>(
    buf: T,
    options?: CollectiveCallOptions | AsyncCallOptions,
  ): Promise<T> | Work<T> {
    this.checkBuffer(buf);
    return this.issue('allGather', options, (deadline) =>
      ringAllGather(this.transport, buf, left(deadline)),
    );
  }

  allToAll<T extends GroupBuffer>(buf: T, options: AsyncCallOptions): Work<T>;
  allToAll<T extends GroupBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T>;
  allToAll<T extends GroupBuffer>(
    buf: T,
    options?: CollectiveCallOptions | AsyncCallOptions,
  ): Promise<T> | Work<T> {
    this.checkBuffer(buf);
    if (buf.length % this.worldSize !== 0) {
      this.fail(
        'invalid-argument',
        `allToAll: expected a length divisible by worldSize ${this.worldSize}, got ${buf.length} (use allToAllV for variable splits)`,
      );
    }
    return this.issue('allToAll', options, (deadline) =>
      allToAll(this.transport, buf, { ...this.choice, ...left(deadline) }),
    );
  }

  allToAllV<T extends GroupBuffer>(
    buf: T,
    sendCounts: readonly number[],
    options: AsyncCallOptions,
  ): Work<GroupAllToAllVResult<T>>;
  allToAllV<T extends GroupBuffer>(
    buf: T,
    sendCounts: readonly number[],
    options?: CollectiveCallOptions,
  ): Promise<GroupAllToAllVResult<T>>;
  allToAllV<T extends GroupBuffer>(
    buf: T,
    sendCounts: readonly number[],
    options?: CollectiveCallOptions | AsyncCallOptions,
  ): Promise<GroupAllToAllVResult<T>> | Work<GroupAllToAllVResult<T>> {
    this.checkBuffer(buf);
    checkSplitCounts(this.module, sendCounts, this.worldSize, buf.length);
    const counts = [...sendCounts];
    return this.issue('allToAllV', options, (deadline) =>
      allToAllV(this.transport, buf, counts, { ...this.choice, ...left(deadline) }),
    );
  }

  barrier(options: AsyncCallOptions): Work<void>;
  barrier(options?: CollectiveCallOptions): Promise<void>;
  barrier(options?: CollectiveCallOptions | AsyncCallOptions): Promise<void> | Work<void> {
    return this.issue('barrier', options, (deadline) => barrier(this.transport, left(deadline)));
  }

  send(buf: GroupBuffer, dst: number, options: AsyncCallOptions): Work<void>;
  send(buf: GroupBuffer, dst: number, options?: CollectiveCallOptions): Promise<void>;
  send(
    buf: GroupBuffer,
    dst: number,
    options?: CollectiveCallOptions | AsyncCallOptions,
  ): Promise<void> | Work<void> {
    this.checkBuffer(buf);
    this.checkPeer('dst', dst, false);
    return this.issue('send', options, (deadline) =>
      sendArray(this.transport, buf, dst, left(deadline)),
    );
  }

  recv<T extends GroupBuffer>(buf: T, src: number, options: AsyncCallOptions): Work<T>;
  recv<T extends GroupBuffer>(buf: T, src: number, options?: CollectiveCallOptions): Promise<T>;
  recv<T extends GroupBuffer>(
    buf: T,
    src: number,
    options?: CollectiveCallOptions | AsyncCallOptions,
  ): Promise<T> | Work<T> {
    this.checkBuffer(buf);
    this.checkPeer('src', src, false);
    return this.issue('recv', options, (deadline) =>
      recvArray(this.transport, buf, src, left(deadline)),
    );
  }

  newSubGroup(ranks: readonly number[]): ExtendedCollectiveGroupV1 {
    if (!Array.isArray(ranks) || ranks.length === 0) {
      this.fail('invalid-argument', 'newSubGroup: expected a non-empty array of ranks');
    }
    const members = ranks.map((r, i) =>
      checkInt(this.module, `ranks[${i}]`, r, 0, this.worldSize - 1),
    );
    if (new Set(members).size !== members.length) {
      this.fail(
        'invalid-argument',
        `newSubGroup: expected distinct ranks, got [${members.join(', ')}]`,
      );
    }
    if (!members.includes(this.rank)) {
      this.fail(
        'invalid-argument',
        `newSubGroup: rank ${this.rank} is not among the ranks [${members.join(', ')}]; only members create the sub-group`,
      );
    }
    // The parent's topology is indexed by parent ranks; the sub-group's by its own.
    const parentTopology = this.choice?.topology;
    const collectives = parentTopology
      ? { ...this.choice, topology: subTopology(parentTopology.hostOf, members) }
      : this.choice;
    return new TransportGroup(
      subGroup(this.transport, members),
      { ...this.options, collectives, allReduce: undefined },
      this.scheduler,
    );
  }
}

/** A `CollectiveGroupV1` (with `allToAllV` and sub-groups) whose collectives run over `transport`. */
export function createTransportGroup(
  transport: PointToPointV1,
  options: TransportGroupOptions = {},
): ExtendedCollectiveGroupV1 {
  return new TransportGroup(transport, options);
}
