import type { ElementArray } from '../reduction/dtype.js';
import type { ReduceOp } from '../types.js';

/** Per-call options of a point-to-point transport. */
export interface PointToPointCallOptions {
  /** Milliseconds before the call rejects with a `timeout` error. */
  timeoutMs?: number;
}

/**
 * A reliable, ordered message channel between every ordered pair of ranks:
 * the contract the collective algorithms are written against, and that
 * every transport (worker threads, processes over shared memory, TCP)
 * implements. Messages from one sender to one receiver arrive in the order
 * they were sent; a rank may send and receive concurrently with any peers,
 * which the ring and tree algorithms rely on.
 */
export interface PointToPointV1 {
  readonly specificationVersion: 'v1';
  readonly rank: number;
  readonly worldSize: number;
  /**
   * Sends one message to rank `dst`. Resolves once `bytes` may be reused
   * (the receiver may not have taken the message yet).
   */
  send(dst: number, bytes: Uint8Array, options?: PointToPointCallOptions): Promise<void>;
  /**
   * Receives the next message from rank `src`. With `into`, the message is
   * written there and must have exactly `into.byteLength` bytes; without it a
   * new array is returned.
   */
  recv(src: number, into?: Uint8Array, options?: PointToPointCallOptions): Promise<Uint8Array>;
  /** Releases the transport's resources; later calls reject. */
  close(): Promise<void>;
}

/**
 * What a transport may do beyond `PointToPointV1`: run a whole pipelined
 * ring all-reduce itself (the TCP transport's native engine does, in its
 * I/O threads). `undefined` where it cannot for this call; the algorithm
 * then runs its own ring over send and recv, with the same messages.
 */
export interface RingAllReduceOffloadV1 {
  offloadRingAllReduce(
    buf: ElementArray,
    op: ReduceOp,
    options: { chunkBytes: number; timeoutMs?: number },
  ): Promise<void> | undefined;
}
