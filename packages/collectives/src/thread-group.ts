import { PlexusCollectivesError } from './errors.js';
import { checkOp, finishAvg, reduceInto, segmentBounds } from './reduce.js';
import type {
  CollectiveBuffer,
  CollectiveCallOptions,
  CollectiveGroupV1,
  ReduceOp,
} from './types.js';

const MODULE = 'thread-group';
const CTRL_INTS = 4; // [flag, chunkBytes, messageBytes, unused] per directed channel
const FLAG = 0;
const CHUNK = 1;
const TOTAL = 2;
const EMPTY = 0;
const FULL = 1;

/**
 * Everything a worker thread needs to join a thread group. Plain data plus
 * two SharedArrayBuffers, so it can travel in `workerData` or `postMessage`.
 */
export interface ThreadGroupDescriptor {
  readonly kind: 'plexus-collectives/thread-group';
  readonly worldSize: number;
  /** Capacity in bytes of each directed channel's slot; larger messages go in chunks. */
  readonly channelBytes: number;
  readonly control: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
}

/** Options for `createThreadGroup`. */
export interface CreateThreadGroupOptions {
  /** Bytes per directed channel slot (default 1 MiB, rounded up to a multiple of 8). */
  channelBytes?: number;
}

/** Options for `joinThreadGroup`. */
export interface JoinThreadGroupOptions {
  /** Default per-call timeout in milliseconds (default 30 000). */
  timeoutMs?: number;
}

type WaitAsync = (
  ta: Int32Array,
  index: number,
  value: number,
  timeout?: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync?: WaitAsync }).waitAsync;

function checkInt(name: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected ${name} to be an integer in [${min}, ${max}], got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Allocates the shared memory of a group of `worldSize` threads: one
 * single-slot channel per ordered pair of ranks. Pass the descriptor to each
 * thread and call `joinThreadGroup(descriptor, rank)` there.
 */
export function createThreadGroup(
  worldSize: number,
  options: CreateThreadGroupOptions = {},
): ThreadGroupDescriptor {
  checkInt('worldSize', worldSize, 1, 1024);
  const requested = checkInt('channelBytes', options.channelBytes ?? 1 << 20, 8, 1 << 30);
  const channelBytes = Math.ceil(requested / 8) * 8;
  const channels = worldSize * worldSize;
  return {
    kind: 'plexus-collectives/thread-group',
    worldSize,
    channelBytes,
    control: new SharedArrayBuffer(channels * CTRL_INTS * 4),
    data: new SharedArrayBuffer(channels * channelBytes),
  };
}

function bytesOf(buf: CollectiveBuffer): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function checkBuffer(buf: unknown): asserts buf is CollectiveBuffer {
  if (!(buf instanceof Float32Array || buf instanceof Float64Array || buf instanceof Int32Array)) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      'expected a Float32Array, Float64Array or Int32Array',
    );
  }
}

function like<T extends CollectiveBuffer>(buf: T, length: number): T {
  const Ctor = buf.constructor as new (n: number) => T;
  return new Ctor(length);
}

class ThreadGroup implements CollectiveGroupV1 {
  readonly specificationVersion = 'v1' as const;
  readonly rank: number;
  readonly worldSize: number;
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;
  private readonly cap: number;
  private readonly defaultTimeoutMs: number;
  private queue: Promise<unknown> = Promise.resolve();
  private brokenBy: PlexusCollectivesError | undefined;

  constructor(desc: ThreadGroupDescriptor, rank: number, options: JoinThreadGroupOptions) {
    if (desc?.kind !== 'plexus-collectives/thread-group') {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        'expected a descriptor from createThreadGroup',
      );
    }
    if (waitAsync === undefined) {
      throw new PlexusCollectivesError(MODULE, 'invalid-argument', 'Atomics.waitAsync is required');
    }
    this.worldSize = desc.worldSize;
    this.rank = checkInt('rank', rank, 0, desc.worldSize - 1);
    this.ctrl = new Int32Array(desc.control);
    this.data = new Uint8Array(desc.data);
    this.cap = desc.channelBytes;
    this.defaultTimeoutMs = options.timeoutMs ?? 30_000;
  }

  // ---- scheduling -------------------------------------------------------

  private run<R>(
    what: string,
    options: CollectiveCallOptions | undefined,
    body: (deadline: number) => Promise<R>,
  ): Promise<R> {
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    if (!(typeof timeoutMs === 'number' && timeoutMs > 0)) {
      return Promise.reject(
        new PlexusCollectivesError(
          MODULE,
          'invalid-argument',
          `expected timeoutMs > 0, got ${String(timeoutMs)}`,
        ),
      );
    }
    const start = async (): Promise<R> => {
      if (this.brokenBy) {
        throw new PlexusCollectivesError(
          MODULE,
          'broken',
          `${what} on rank ${this.rank}: the group is broken by an earlier failure (${this.brokenBy.message})`,
          { cause: this.brokenBy },
        );
      }
      // A ref'd timer keeps the event loop alive while Atomics.waitAsync is pending.
      const keepAlive = setInterval(() => {}, 1 << 30);
      try {
        return await body(performance.now() + timeoutMs);
      } catch (error) {
        const wrapped = PlexusCollectivesError.isInstance(error)
          ? new PlexusCollectivesError(
              MODULE,
              error.code,
              `${what} on rank ${this.rank} failed: ${error.message}`,
              { cause: error },
            )
          : new PlexusCollectivesError(MODULE, 'broken', `${what} on rank ${this.rank} failed`, {
              cause: error,
            });
        this.brokenBy = wrapped;
        throw wrapped;
      } finally {
        clearInterval(keepAlive);
      }
    };
    const result = this.queue.then(start, start);
    this.queue = result.catch(() => undefined);
    return result;
  }

  // ---- point to point over one directed channel -------------------------

  /** Waits while `ctrl[index] === value`, up to the deadline. */
  private async waitWhile(index: number, value: number, deadline: number, peer: number) {
    while (Atomics.load(this.ctrl, index) === value) {
      const remaining = deadline - performance.now();
      if (remaining <= 0) {
        throw new PlexusCollectivesError(MODULE, 'timeout', `timed out waiting for rank ${peer}`);
      }
      const r = waitAsync!(this.ctrl, index, value, remaining);
      if (r.async) await r.value;
    }
  }

  private async sendBytes(bytes: Uint8Array, dst: number, deadline: number): Promise<void> {
    const ch = this.rank * this.worldSize + dst;
    const base = ch * CTRL_INTS;
    const dataOff = ch * this.cap;
    const total = bytes.byteLength;
    let off = 0;
    do {
      await this.waitWhile(base + FLAG, FULL, deadline, dst);
      const n = Math.min(this.cap, total - off);
      this.data.set(bytes.subarray(off, off + n), dataOff);
      Atomics.store(this.ctrl, base + CHUNK, n);
      Atomics.store(this.ctrl, base + TOTAL, total);
      Atomics.store(this.ctrl, base + FLAG, FULL);
      Atomics.notify(this.ctrl, base + FLAG);
      off += n;
    } while (off < total);
  }

  private async recvBytes(bytes: Uint8Array, src: number, deadline: number): Promise<void> {
    const ch = src * this.worldSize + this.rank;
    const base = ch * CTRL_INTS;
    const dataOff = ch * this.cap;
    const total = bytes.byteLength;
    let off = 0;
    do {
      await this.waitWhile(base + FLAG, EMPTY, deadline, src);
      const n = Atomics.load(this.ctrl, base + CHUNK);
      const senderTotal = Atomics.load(this.ctrl, base + TOTAL);
      if (senderTotal !== total || off + n > total) {
        throw new PlexusCollectivesError(
          MODULE,
          'mismatch',
          `rank ${src} sent ${senderTotal} bytes but ${total} were expected`,
        );
      }
      bytes.set(this.data.subarray(dataOff, dataOff + n), off);
      Atomics.store(this.ctrl, base + FLAG, EMPTY);
      Atomics.notify(this.ctrl, base + FLAG);
      off += n;
    } while (off < total);
  }

  private checkPeer(name: string, peer: unknown, allowSelf: boolean): number {
    const p = checkInt(name, peer, 0, this.worldSize - 1);
    if (!allowSelf && p === this.rank) {
      throw new PlexusCollectivesError(MODULE, 'invalid-argument', `${name} must not be this rank`);
    }
    return p;
  }

  // ---- ring building blocks ---------------------------------------------

  /** Ring reduce-scatter in place: afterwards segment `rank` of `buf` holds the full reduction. */
  private async ringReduceScatter(buf: CollectiveBuffer, op: ReduceOp, deadline: number) {
    const n = this.worldSize;
    const r = this.rank;
    const right = (r + 1) % n;
    const left = (r - 1 + n) % n;
    const tmp = like(buf, Math.ceil(buf.length / n));
    for (let s = 0; s < n - 1; s++) {
      const [ss, se] = segmentBounds(buf.length, n, (((r - s - 1) % n) + n) % n);
      const [rs, re] = segmentBounds(buf.length, n, (((r - s - 2) % n) + n) % n);
      const incoming = tmp.subarray(0, re - rs);
      await Promise.all([
        this.sendBytes(bytesOf(buf.subarray(ss, se)), right, deadline),
        this.recvBytes(bytesOf(incoming), left, deadline),
      ]);
      reduceInto(buf.subarray(rs, re), incoming, op);
    }
  }

  /** Ring all-gather in place: segment `rank` of `buf` is spread to every rank. */
  private async ringAllGather(buf: CollectiveBuffer, deadline: number) {
    const n = this.worldSize;
    const r = this.rank;
    const right = (r + 1) % n;
    const left = (r - 1 + n) % n;
    for (let s = 0; s < n - 1; s++) {
      const [ss, se] = segmentBounds(buf.length, n, (((r - s) % n) + n) % n);
      const [rs, re] = segmentBounds(buf.length, n, (((r - s - 1) % n) + n) % n);
      await Promise.all([
        this.sendBytes(bytesOf(buf.subarray(ss, se)), right, deadline),
        this.recvBytes(bytesOf(buf.subarray(rs, re)), left, deadline),
      ]);
    }
  }

  // ---- public API -------------------------------------------------------

  allReduce<T extends CollectiveBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    checkBuffer(buf);
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
    checkBuffer(buf);
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
    checkBuffer(buf);
    this.checkPeer('root', root, true);
    return this.run('broadcast', options, async (deadline) => {
      if (this.rank === root) {
        const bytes = bytesOf(buf);
        const sends: Promise<void>[] = [];
        for (let p = 0; p < this.worldSize; p++) {
          if (p !== root) sends.push(this.sendBytes(bytes, p, deadline));
        }
        await Promise.all(sends);
      } else {
        await this.recvBytes(bytesOf(buf), root, deadline);
      }
      return buf;
    });
  }

  allGather<T extends CollectiveBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T> {
    checkBuffer(buf);
    return this.run('allGather', options, async (deadline) => {
      const len = buf.length;
      const out = like(buf, len * this.worldSize);
      out.set(buf, this.rank * len);
      const ops: Promise<void>[] = [];
      const mine = bytesOf(buf);
      for (let p = 0; p < this.worldSize; p++) {
        if (p === this.rank) continue;
        ops.push(this.sendBytes(mine, p, deadline));
        ops.push(this.recvBytes(bytesOf(out.subarray(p * len, (p + 1) * len)), p, deadline));
      }
      await Promise.all(ops);
      return out;
    });
  }

  allToAll<T extends CollectiveBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T> {
    checkBuffer(buf);
    if (buf.length % this.worldSize !== 0) {
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `allToAll: expected a length divisible by worldSize ${this.worldSize}, got ${buf.length}`,
      );
    }
    return this.run('allToAll', options, async (deadline) => {
      const chunk = buf.length / this.worldSize;
      const out = like(buf, buf.length);
      const at = (a: CollectiveBuffer, p: number) => a.subarray(p * chunk, (p + 1) * chunk);
      out.set(at(buf, this.rank), this.rank * chunk);
      const ops: Promise<void>[] = [];
      for (let p = 0; p < this.worldSize; p++) {
        if (p === this.rank) continue;
        ops.push(this.sendBytes(bytesOf(at(buf, p)), p, deadline));
        ops.push(this.recvBytes(bytesOf(at(out, p)), p, deadline));
      }
      await Promise.all(ops);
      return out;
    });
  }

  barrier(options?: CollectiveCallOptions): Promise<void> {
    return this.run('barrier', options, async (deadline) => {
      const empty = new Uint8Array(0);
      const ops: Promise<void>[] = [];
      for (let p = 0; p < this.worldSize; p++) {
        if (p === this.rank) continue;
        ops.push(this.sendBytes(empty, p, deadline));
        ops.push(this.recvBytes(new Uint8Array(0), p, deadline));
      }
      await Promise.all(ops);
    });
  }

  send(buf: CollectiveBuffer, dst: number, options?: CollectiveCallOptions): Promise<void> {
    checkBuffer(buf);
    this.checkPeer('dst', dst, false);
    return this.run('send', options, (deadline) => this.sendBytes(bytesOf(buf), dst, deadline));
  }

  recv<T extends CollectiveBuffer>(
    buf: T,
    src: number,
    options?: CollectiveCallOptions,
  ): Promise<T> {
    checkBuffer(buf);
    this.checkPeer('src', src, false);
    return this.run('recv', options, async (deadline) => {
      await this.recvBytes(bytesOf(buf), src, deadline);
      return buf;
    });
  }
}

/** Joins the group described by `descriptor` as `rank` (call once per thread). */
export function joinThreadGroup(
  descriptor: ThreadGroupDescriptor,
  rank: number,
  options: JoinThreadGroupOptions = {},
): CollectiveGroupV1 {
  return new ThreadGroup(descriptor, rank, options);
}
