import { PlexusCollectivesError } from '../errors.js';
import { checkOp, finishAvg, reduceInto, segmentBounds } from '../reduce.js';
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
}

function bytesOf(buf: CollectiveBuffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function like<T extends CollectiveBuffer>(buf: T, length: number): T {
  const Ctor = buf.constructor as new (n: number) => T;
  return new Ctor(length);
}

/** Remaining time until `deadline`, as a transport call option (at least 1 ms). */
function left(deadline: number): { timeoutMs: number } {
  return { timeoutMs: Math.max(1, deadline - performance.now()) };
}

/**
 * `CollectiveGroupV1` over any `PointToPointV1` transport: ring
 * reduce-scatter + all-gather for all-reduce ("Bandwidth optimal all-reduce
 * algorithms for clusters of workstations", Patarasuk & Yuan, 2009), direct
 * exchanges for all-gather, all-to-all, broadcast and barrier. Calls run one
 * at a time in call order; after any failure the group is broken and every
 * later call rejects with `broken`, so a result is never silently wrong.
 */
class TransportGroup implements CollectiveGroupV1 {
  readonly specificationVersion = 'v1' as const;
  readonly rank: number;
  readonly worldSize: number;
  private readonly module: string;
  private readonly defaultTimeoutMs: number;
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

  private async exchange(
    sendTo: number,
    out: Uint8Array,
    recvFrom: number,
    into: Uint8Array,
    deadline: number,
  ): Promise<void> {
    await Promise.all([
      this.transport.send(sendTo, out, left(deadline)),
      this.transport.recv(recvFrom, into, left(deadline)),
    ]);
  }

  /** Ring reduce-scatter in place: afterwards segment `rank` of `buf` holds the full reduction. */
  private async ringReduceScatter(buf: CollectiveBuffer, op: ReduceOp, deadline: number) {
    const n = this.worldSize;
    const r = this.rank;
    const right = (r + 1) % n;
    const left_ = (r - 1 + n) % n;
    const tmp = like(buf, Math.ceil(buf.length / n));
    for (let s = 0; s < n - 1; s++) {
      const [ss, se] = segmentBounds(buf.length, n, (((r - s - 1) % n) + n) % n);
      const [rs, re] = segmentBounds(buf.length, n, (((r - s - 2) % n) + n) % n);
      const incoming = tmp.subarray(0, re - rs);
      await this.exchange(right, bytesOf(buf.subarray(ss, se)), left_, bytesOf(incoming), deadline);
      reduceInto(buf.subarray(rs, re), incoming, op);
    }
  }

  /** Ring all-gather in place: segment `rank` of `buf` is spread to every rank. */
  private async ringAllGather(buf: CollectiveBuffer, deadline: number) {
    const n = this.worldSize;
    const r = this.rank;
    const right = (r + 1) % n;
    const left_ = (r - 1 + n) % n;
    for (let s = 0; s < n - 1; s++) {
      const [ss, se] = segmentBounds(buf.length, n, (((r - s) % n) + n) % n);
      const [rs, re] = segmentBounds(buf.length, n, (((r - s - 1) % n) + n) % n);
      await this.exchange(
        right,
        bytesOf(buf.subarray(ss, se)),
        left_,
        bytesOf(buf.subarray(rs, re)),
        deadline,
      );
    }
  }

  allReduce<T extends CollectiveBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    this.checkBuffer(buf);
    checkOp(op);
    return this.run('allReduce', options, async (deadline) => {
      if (this.worldSize > 1) {
        await this.ringReduceScatter(buf, op, deadline);
        if (op === 'avg') {
          const [s, e] = segmentBounds(buf.length, this.worldSize, this.rank);
          finishAvg(buf.subarray(s, e), this.worldSize);
        }
        await this.ringAllGather(buf, deadline);
      }
      return buf;
    });
  }

  reduceScatter<T extends CollectiveBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    this.checkBuffer(buf);
    checkOp(op);
    return this.run('reduceScatter', options, async (deadline) => {
      const work = buf.slice() as T;
      if (this.worldSize > 1) await this.ringReduceScatter(work, op, deadline);
      const [s, e] = segmentBounds(work.length, this.worldSize, this.rank);
      const out = work.slice(s, e) as T;
      if (op === 'avg' && this.worldSize > 1) finishAvg(out, this.worldSize);
      return out;
    });
  }

  broadcast<T extends CollectiveBuffer>(
    buf: T,
    root: number,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    this.checkBuffer(buf);
    this.checkPeer('root', root, true);
    return this.run('broadcast', options, async (deadline) => {
      if (this.rank === root) {
        const bytes = bytesOf(buf);
        const sends: Promise<void>[] = [];
        for (let p = 0; p < this.worldSize; p++) {
          if (p !== root) sends.push(this.transport.send(p, bytes, left(deadline)));
        }
        await Promise.all(sends);
      } else {
        await this.transport.recv(root, bytesOf(buf), left(deadline));
      }
      return buf;
    });
  }

  allGather<T extends CollectiveBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T> {
    this.checkBuffer(buf);
    return this.run('allGather', options, async (deadline) => {
      const len = buf.length;
      const out = like(buf, len * this.worldSize);
      out.set(buf, this.rank * len);
      const ops: Promise<unknown>[] = [];
      const mine = bytesOf(buf);
      for (let p = 0; p < this.worldSize; p++) {
        if (p === this.rank) continue;
        ops.push(this.transport.send(p, mine, left(deadline)));
        ops.push(
          this.transport.recv(p, bytesOf(out.subarray(p * len, (p + 1) * len)), left(deadline)),
        );
      }
      await Promise.all(ops);
      return out;
    });
  }

  allToAll<T extends CollectiveBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T> {
    this.checkBuffer(buf);
    if (buf.length % this.worldSize !== 0) {
      this.fail(
        'invalid-argument',
        `allToAll: expected a length divisible by worldSize ${this.worldSize}, got ${buf.length}`,
      );
    }
    return this.run('allToAll', options, async (deadline) => {
      const chunk = buf.length / this.worldSize;
      const out = like(buf, buf.length);
      const at = (a: CollectiveBuffer, p: number) => a.subarray(p * chunk, (p + 1) * chunk);
      out.set(at(buf, this.rank), this.rank * chunk);
      const ops: Promise<unknown>[] = [];
      for (let p = 0; p < this.worldSize; p++) {
        if (p === this.rank) continue;
        ops.push(this.transport.send(p, bytesOf(at(buf, p)), left(deadline)));
        ops.push(this.transport.recv(p, bytesOf(at(out, p)), left(deadline)));
      }
      await Promise.all(ops);
      return out;
    });
  }

  barrier(options?: CollectiveCallOptions): Promise<void> {
    return this.run('barrier', options, async (deadline) => {
      const ops: Promise<unknown>[] = [];
      for (let p = 0; p < this.worldSize; p++) {
        if (p === this.rank) continue;
        ops.push(this.transport.send(p, new Uint8Array(0), left(deadline)));
        ops.push(this.transport.recv(p, new Uint8Array(0), left(deadline)));
      }
      await Promise.all(ops);
    });
  }

  send(buf: CollectiveBuffer, dst: number, options?: CollectiveCallOptions): Promise<void> {
    this.checkBuffer(buf);
    this.checkPeer('dst', dst, false);
    return this.run('send', options, (deadline) =>
      this.transport.send(dst, bytesOf(buf), left(deadline)),
    );
  }

  recv<T extends CollectiveBuffer>(
    buf: T,
    src: number,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    this.checkBuffer(buf);
    this.checkPeer('src', src, false);
    return this.run('recv', options, async (deadline) => {
      await this.transport.recv(src, bytesOf(buf), left(deadline));
      return buf;
    });
  }
}

/** A `CollectiveGroupV1` whose collectives run over `transport`. */
export function createTransportGroup(
  transport: PointToPointV1,
  options: TransportGroupOptions = {},
): CollectiveGroupV1 {
  return new TransportGroup(transport, options);
}
