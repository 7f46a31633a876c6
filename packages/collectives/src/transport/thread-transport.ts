import { PlexusCollectivesError } from '../errors.js';
import type { PointToPointCallOptions, PointToPointV1 } from './point-to-point.js';

const MODULE = 'thread-transport';
const CTRL_INTS = 4; // [flag, chunkBytes, messageBytes, unused] per directed channel
const FLAG = 0;
const CHUNK = 1;
const TOTAL = 2;
const EMPTY = 0;
const FULL = 1;

/**
 * Everything a worker thread needs to join a thread transport. Plain data
 * plus two SharedArrayBuffers, so it can travel in `workerData` or `postMessage`.
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

/** Options for `createThreadTransport`. */
export interface ThreadTransportOptions {
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

/** Throws `invalid-argument` unless `value` is an integer in `[min, max]`. */
export function checkInt(
  module: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `expected ${name} to be an integer in [${min}, ${max}], got ${String(value)}`,
    );
  }
  return value;
}

/**
 * Allocates the shared memory of a group of `worldSize` threads: one
 * single-slot channel per ordered pair of ranks. Pass the descriptor to each
 * thread and join there (`joinThreadGroup` or `createThreadTransport`).
 */
export function createThreadGroup(
  worldSize: number,
  options: CreateThreadGroupOptions = {},
): ThreadGroupDescriptor {
  checkInt('thread-group', 'worldSize', worldSize, 1, 1024);
  const requested = checkInt(
    'thread-group',
    'channelBytes',
    options.channelBytes ?? 1 << 20,
    8,
    1 << 30,
  );
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

/**
 * `PointToPointV1` between the worker threads of one process. Each ordered
 * pair of ranks owns one single-slot channel in a SharedArrayBuffer; the
 * sender fills the slot and flips a flag with `Atomics.store`/`notify`, the
 * receiver waits with `Atomics.waitAsync`, so no socket or structured clone
 * is on the data path. Messages larger than the slot go in chunks, so a
 * send of more than `channelBytes` completes only while the receiver
 * receives. Sends to one peer (and receives from one peer) are queued, so
 * concurrent calls keep their call order. A call that times out leaves the
 * channel mid-message, so the pair is marked failed and later calls with
 * that peer reject.
 */
class ThreadTransport implements PointToPointV1 {
  readonly specificationVersion = 'v1' as const;
  readonly rank: number;
  readonly worldSize: number;
  private readonly ctrl: Int32Array;
  private readonly data: Uint8Array;
  private readonly cap: number;
  private readonly defaultTimeoutMs: number;
  private readonly sendQueues: Promise<unknown>[];
  private readonly recvQueues: Promise<unknown>[];
  private readonly failed: (PlexusCollectivesError | undefined)[];
  private closed = false;

  constructor(desc: ThreadGroupDescriptor, rank: number, options: ThreadTransportOptions) {
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
    this.rank = checkInt(MODULE, 'rank', rank, 0, desc.worldSize - 1);
    this.ctrl = new Int32Array(desc.control);
    this.data = new Uint8Array(desc.data);
    this.cap = desc.channelBytes;
    this.defaultTimeoutMs = options.timeoutMs ?? 30_000;
    this.sendQueues = Array.from({ length: this.worldSize }, () => Promise.resolve());
    this.recvQueues = Array.from({ length: this.worldSize }, () => Promise.resolve());
    this.failed = new Array(this.worldSize).fill(undefined);
  }

  send(dst: number, bytes: Uint8Array, options?: PointToPointCallOptions): Promise<void> {
    return this.enqueue(this.sendQueues, dst, 'dst', options, (deadline) =>
      this.sendBytes(bytes, dst, deadline),
    );
  }

  recv(src: number, into?: Uint8Array, options?: PointToPointCallOptions): Promise<Uint8Array> {
    return this.enqueue(this.recvQueues, src, 'src', options, (deadline) =>
      this.recvBytes(into, src, deadline),
    );
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private enqueue<R>(
    queues: Promise<unknown>[],
    peer: number,
    name: string,
    options: PointToPointCallOptions | undefined,
    body: (deadline: number) => Promise<R>,
  ): Promise<R> {
    try {
      checkInt(MODULE, name, peer, 0, this.worldSize - 1);
      if (peer === this.rank) {
        throw new PlexusCollectivesError(
          MODULE,
          'invalid-argument',
          `${name} must not be this rank`,
        );
      }
    } catch (error) {
      return Promise.reject(error);
    }
    const timeoutMs = options?.timeoutMs ?? this.defaultTimeoutMs;
    const start = async (): Promise<R> => {
      if (this.closed) throw new PlexusCollectivesError(MODULE, 'broken', 'transport is closed');
      const failure = this.failed[peer];
      if (failure) {
        throw new PlexusCollectivesError(
          MODULE,
          'broken',
          `the channel with rank ${peer} failed earlier (${failure.message})`,
          { cause: failure },
        );
      }
      // A ref'd timer keeps the event loop alive while Atomics.waitAsync is pending.
      const keepAlive = setInterval(() => {}, 1 << 30);
      try {
        return await body(performance.now() + timeoutMs);
      } catch (error) {
        if (PlexusCollectivesError.isInstance(error) && error.code !== 'mismatch') {
          this.failed[peer] = error;
        }
        throw error;
      } finally {
        clearInterval(keepAlive);
      }
    };
    const result = queues[peer]!.then(start, start);
    queues[peer] = result.catch(() => undefined);
    return result;
  }

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

  private async recvBytes(
    into: Uint8Array | undefined,
    src: number,
    deadline: number,
  ): Promise<Uint8Array> {
    const ch = src * this.worldSize + this.rank;
    const base = ch * CTRL_INTS;
    const dataOff = ch * this.cap;
    await this.waitWhile(base + FLAG, EMPTY, deadline, src);
    const total = Atomics.load(this.ctrl, base + TOTAL);
    if (into !== undefined && into.byteLength !== total) {
      // Drain the message so the channel stays aligned, then report the mismatch.
      await this.drain(base, total, deadline, src);
      throw new PlexusCollectivesError(
        MODULE,
        'mismatch',
        `rank ${src} sent ${total} bytes but ${into.byteLength} were expected`,
      );
    }
    const bytes = into ?? new Uint8Array(total);
    let off = 0;
    for (;;) {
      const n = Atomics.load(this.ctrl, base + CHUNK);
      if (off + n > total) {
        throw new PlexusCollectivesError(MODULE, 'mismatch', `rank ${src} overran its message`);
      }
      bytes.set(this.data.subarray(dataOff, dataOff + n), off);
      Atomics.store(this.ctrl, base + FLAG, EMPTY);
      Atomics.notify(this.ctrl, base + FLAG);
      off += n;
      if (off >= total) return bytes;
      await this.waitWhile(base + FLAG, EMPTY, deadline, src);
    }
  }

  private async drain(base: number, total: number, deadline: number, src: number) {
    let off = 0;
    for (;;) {
      off += Atomics.load(this.ctrl, base + CHUNK);
      Atomics.store(this.ctrl, base + FLAG, EMPTY);
      Atomics.notify(this.ctrl, base + FLAG);
      if (off >= total) return;
      await this.waitWhile(base + FLAG, EMPTY, deadline, src);
    }
  }
}

/** Joins the thread transport described by `descriptor` as `rank` (once per thread). */
export function createThreadTransport(
  descriptor: ThreadGroupDescriptor,
  rank: number,
  options: ThreadTransportOptions = {},
): PointToPointV1 {
  return new ThreadTransport(descriptor, rank, options);
}
