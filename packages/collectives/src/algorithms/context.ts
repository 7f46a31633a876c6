import { PlexusCollectivesError } from '../errors.js';
import { bytesOf, type ElementArray } from '../reduction/dtype.js';
import { reduceElements } from '../reduction/reducer.js';
import type { PointToPointV1 } from '../transport/point-to-point.js';
import type { ReduceOp } from '../types.js';

/** `acc[i] = acc[i] (op) src[i]`; lets callers swap in their own kernel. */
export type Reducer = (acc: ElementArray, src: ElementArray, op: ReduceOp) => void;

/** Options shared by every algorithm. */
export interface AlgorithmOptions {
  /** Milliseconds for the whole collective; each message wait gets what is left. */
  timeoutMs?: number;
  /** The element-wise kernel (default: `reduceElements`, wasm SIMD where it pays off). */
  reducer?: Reducer;
  /**
   * Bytes per message of pipelined algorithms (the ring all-reduce; default
   * `RING_CHUNK_BYTES`, 4 MiB). Smaller chunks overlap more but cost more
   * messages.
   */
  chunkBytes?: number;
}

const OPS: readonly ReduceOp[] = ['sum', 'prod', 'min', 'max', 'avg'];

/** Throws unless `op` is a reduction operator. */
export function checkReduceOp(module: string, op: unknown): asserts op is ReduceOp {
  if (!OPS.includes(op as ReduceOp)) {
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `expected op to be one of ${OPS.join(', ')}, got ${String(op)}`,
    );
  }
}

/** Throws unless `rank` is a rank of `p2p`. */
export function checkRank(module: string, name: string, rank: unknown, worldSize: number): number {
  if (typeof rank !== 'number' || !Number.isInteger(rank) || rank < 0 || rank >= worldSize) {
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `expected ${name} to be an integer in [0, ${worldSize - 1}], got ${String(rank)}`,
    );
  }
  return rank;
}

/**
 * One collective's view of the transport: typed-array send/recv with a
 * deadline shared by every message of the call.
 */
export class Link {
  private readonly deadline: number;
  readonly reduce: Reducer;

  constructor(
    readonly p2p: PointToPointV1,
    options: AlgorithmOptions = {},
  ) {
    this.deadline =
      options.timeoutMs === undefined
        ? Number.POSITIVE_INFINITY
        : performance.now() + options.timeoutMs;
    this.reduce = options.reducer ?? reduceElements;
  }

  get rank(): number {
    return this.p2p.rank;
  }

  get size(): number {
    return this.p2p.worldSize;
  }

  private opts(): { timeoutMs?: number } {
    if (this.deadline === Number.POSITIVE_INFINITY) return {};
    return { timeoutMs: Math.max(0, this.deadline - performance.now()) };
  }

  /** Sends the elements of `buf` to `dst`. */
  send(dst: number, buf: ElementArray): Promise<void> {
    return this.p2p.send(dst, bytesOf(buf), this.opts());
  }

  /** Receives exactly `buf.length` elements from `src` into `buf`. */
  async recv(src: number, buf: ElementArray): Promise<void> {
    await this.p2p.recv(src, bytesOf(buf), this.opts());
  }

  /** Receives one message of any length from `src`. */
  recvBytes(src: number): Promise<Uint8Array> {
    return this.p2p.recv(src, undefined, this.opts());
  }

  /** Receives one message of exactly `into.byteLength` bytes from `src` into `into`. */
  async recvBytesInto(src: number, into: Uint8Array): Promise<void> {
    await this.p2p.recv(src, into, this.opts());
  }

  /** Sends raw bytes to `dst`. */
  sendBytes(dst: number, bytes: Uint8Array): Promise<void> {
    return this.p2p.send(dst, bytes, this.opts());
  }

  /** Sends `out` to `dst` and receives `into` from `src` concurrently. */
  async exchange(dst: number, out: ElementArray, src: number, into: ElementArray): Promise<void> {
    await Promise.all([this.send(dst, out), this.recv(src, into)]);
  }
}
