import { barrier } from '../algorithms/barrier.js';
import { allReduce, allToAll, type CollectiveOptions } from '../algorithms/collectives.js';
import { ringAllGather, ringReduceScatter } from '../algorithms/ring.js';
import { recvArray, sendArray } from '../algorithms/send-recv.js';
import { treeBroadcast } from '../algorithms/tree.js';
import { PlexusCollectivesError } from '../errors.js';
import { checkOp } from '../reduce.js';
import type {
  CollectiveBuffer,
  CollectiveCallOptions,
  CollectiveGroupV1,
  ReduceOp,
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
   * default: by message size and topology) and `topology` (ranks per host,
   * for HO-Ring and the hierarchical all-to-all).
   */
  collectives?: Pick<CollectiveOptions, 'algorithm' | 'topology' | 'reducer'>;
}

/** Remaining time until `deadline`, as a call option (at least 1 ms). */
function left(deadline: number): { timeoutMs: number } {
  return { timeoutMs: Math.max(1, deadline - performance.now()) };
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
class TransportGroup implements CollectiveGroupV1 {
  readonly specificationVersion = 'v1' as const;
  readonly rank: number;
  readonly worldSize: number;
  private readonly module: string;
  private readonly defaultTimeoutMs: number;
  private readonly choice: TransportGroupOptions['collectives'];
  private queue: Promise<unknown> = Promise.resolve();
  private brokenBy: PlexusCollectivesError | undefined;

  constructor(
    private readonly transport: PointToPointV1,
    options: TransportGroupOptions,
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

  private checkBuffer(buf: unknown): asserts buf is CollectiveBuffer {
    if (
      !(buf instanceof Float32Array || buf instanceof Float64Array || buf instanceof Int32Array)
    ) {
      this.fail('invalid-argument', 'expected a Float32Array, Float64Array or Int32Array');
    }
  }

  private checkPeer(name: string, peer: unknown, allowSelf: boolean): number {
    const p = checkInt(this.module, name, peer, 0, this.worldSize - 1);
    if (!allowSelf && p === this.rank)
      this.fail('invalid-argument', `${name} must not be this rank`);
    return p;
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
      if (this.brokenBy) {
        throw new PlexusCollectivesError(
          this.module,
          'broken',
          `${what} on rank ${this.rank}: the group is broken by an earlier failure (${this.brokenBy.message})`,
          { cause: this.brokenBy },
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
        this.brokenBy = wrapped;
        throw wrapped;
      }
    };
    const result = this.queue.then(start, start);
    this.queue = result.catch(() => undefined);
    return result;
  }

  allReduce<T extends CollectiveBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    this.checkBuffer(buf);
    checkOp(op);
    return this.run('allReduce', options, (deadline) =>
      allReduce(this.transport, buf, op, { ...this.choice, ...left(deadline) }),
    );
  }

  reduceScatter<T extends CollectiveBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    this.checkBuffer(buf);
    checkOp(op);
    return this.run('reduceScatter', options, (deadline) =>
      ringReduceScatter(this.transport, buf, op, { ...this.choice, ...left(deadline) }),
    );
  }

  broadcast<T extends CollectiveBuffer>(
    buf: T,
    root: number,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    this.checkBuffer(buf);
    this.checkPeer('root', root, true);
    return this.run('broadcast', options, (deadline) =>
      treeBroadcast(this.transport, buf, root, left(deadline)),
    );
  }

  allGather<T extends CollectiveBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T> {
    this.checkBuffer(buf);
    return this.run('allGather', options, (deadline) =>
      ringAllGather(this.transport, buf, left(deadline)),
    );
  }

  allToAll<T extends CollectiveBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T> {
    this.checkBuffer(buf);
    if (buf.length % this.worldSize !== 0) {
      this.fail(
        'invalid-argument',
        `allToAll: expected a length divisible by worldSize ${this.worldSize}, got ${buf.length}`,
      );
    }
    return this.run('allToAll', options, (deadline) =>
      allToAll(this.transport, buf, { ...this.choice, ...left(deadline) }),
    );
  }

  barrier(options?: CollectiveCallOptions): Promise<void> {
    return this.run('barrier', options, (deadline) => barrier(this.transport, left(deadline)));
  }

  send(buf: CollectiveBuffer, dst: number, options?: CollectiveCallOptions): Promise<void> {
    this.checkBuffer(buf);
    this.checkPeer('dst', dst, false);
    return this.run('send', options, (deadline) =>
      sendArray(this.transport, buf, dst, left(deadline)),
    );
  }

  recv<T extends CollectiveBuffer>(
    buf: T,
    src: number,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    this.checkBuffer(buf);
    this.checkPeer('src', src, false);
    return this.run('recv', options, (deadline) =>
      recvArray(this.transport, buf, src, left(deadline)),
    );
  }
}

/** A `CollectiveGroupV1` whose collectives run over `transport`. */
export function createTransportGroup(
  transport: PointToPointV1,
  options: TransportGroupOptions = {},
): CollectiveGroupV1 {
  return new TransportGroup(transport, options);
}
