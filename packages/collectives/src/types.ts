import type { ElementArray } from './reduction/dtype.js';

/**
 * Typed arrays the original reference implementation (`reduceInto`) and the
 * fault-tolerant group accept. The group API takes every `GroupBuffer`.
 */
export type CollectiveBuffer = Float32Array | Float64Array | Int32Array;

/**
 * Typed arrays the group API accepts: `CollectiveBuffer` plus BigInt64Array
 * and Uint8Array. Integer arithmetic wraps (Int32 modulo 2^32, BigInt64
 * modulo 2^64, Uint8 modulo 2^8); `avg` truncates toward zero for integers.
 */
export type GroupBuffer = ElementArray;

/** Reduction operators. `avg` divides the sum by the world size (truncating for Int32Array). */
export type ReduceOp = 'sum' | 'prod' | 'min' | 'max' | 'avg';

/** Per-call options. */
export interface CollectiveCallOptions {
  /** Milliseconds before the call rejects with a `timeout` error. Defaults to the group's. */
  timeoutMs?: number;
}

/** Per-call options that ask for a `Work` handle instead of a promise (torch's `async_op=True`). */
export interface AsyncCallOptions extends CollectiveCallOptions {
  async: true;
}

/**
 * Handle of a collective issued with `{ async: true }`, in the spirit of
 * torch.distributed's `Work`. The call is queued in issue order like any
 * other; failures (timeout, mismatch, broken group) surface through `wait()`.
 */
export interface Work<T> {
  /** Resolves with the call's result, or rejects with its error. */
  wait(): Promise<T>;
  /** True once the call has finished, successfully or not. */
  isCompleted(): boolean;
  /** True once the call has finished successfully. */
  isSuccess(): boolean;
}

/** Result of a variable-split all-to-all on a group. */
export interface GroupAllToAllVResult<T extends GroupBuffer> {
  /** Received elements, grouped by source rank in rank order. */
  readonly data: T;
  /** `recvCounts[s]`: elements received from rank `s`. */
  readonly recvCounts: number[];
}

/**
 * A process group in the spirit of `torch.distributed`. Every rank must call
 * the same collectives in the same order with buffers of equal length and
 * type. Calls on one group run one at a time, in call order.
 *
 * After any call fails (timeout, mismatch) the group is broken: every later
 * call rejects with a `broken` error, so a result is never silently wrong.
 */
export interface CollectiveGroupV1 {
  readonly specificationVersion: 'v1';
  readonly rank: number;
  readonly worldSize: number;
  /** In place: every rank ends with the element-wise reduction over all ranks. With `{ async: true }`, a `Work` handle. */
  allReduce<T extends GroupBuffer>(buf: T, op: ReduceOp, options: AsyncCallOptions): Work<T>;
  allReduce<T extends GroupBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  /** In place: every rank ends with `root`'s buffer. */
  broadcast<T extends GroupBuffer>(buf: T, root: number, options: AsyncCallOptions): Work<T>;
  broadcast<T extends GroupBuffer>(
    buf: T,
    root: number,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  /** Returns a new array of `worldSize * buf.length` elements, rank `r`'s buffer at `r * buf.length`. */
  allGather<T extends GroupBuffer>(buf: T, options: AsyncCallOptions): Work<T>;
  allGather<T extends GroupBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T>;
  /**
   * Reduces over all ranks and returns this rank's segment as a new array.
   * The buffer is split into `worldSize` contiguous segments; the first
   * `length % worldSize` segments hold one element more (see `segmentBounds`).
   */
  reduceScatter<T extends GroupBuffer>(buf: T, op: ReduceOp, options: AsyncCallOptions): Work<T>;
  reduceScatter<T extends GroupBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  /**
   * Equal splits: `buf.length` must be divisible by `worldSize`. Chunk `j` of
   * the input goes to rank `j`; chunk `j` of the returned array came from rank `j`.
   */
  allToAll<T extends GroupBuffer>(buf: T, options: AsyncCallOptions): Work<T>;
  allToAll<T extends GroupBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T>;
  /** Resolves once every rank has entered the barrier. */
  barrier(options: AsyncCallOptions): Work<void>;
  barrier(options?: CollectiveCallOptions): Promise<void>;
  /**
   * Sends `buf` to rank `dst`; resolves once the last chunk is in the channel
   * (the receiver may not have taken it yet; `buf` may be reused at once).
   */
  send(buf: GroupBuffer, dst: number, options: AsyncCallOptions): Work<void>;
  send(buf: GroupBuffer, dst: number, options?: CollectiveCallOptions): Promise<void>;
  /** Receives into `buf` (same byte length as the sender's) from rank `src`. */
  recv<T extends GroupBuffer>(buf: T, src: number, options: AsyncCallOptions): Work<T>;
  recv<T extends GroupBuffer>(buf: T, src: number, options?: CollectiveCallOptions): Promise<T>;
}

/**
 * `CollectiveGroupV1` plus variable-split all-to-all and sub-groups, as
 * returned by `createTransportGroup` and `joinThreadGroup`.
 */
export interface ExtendedCollectiveGroupV1 extends CollectiveGroupV1 {
  /**
   * Variable splits: the first `sendCounts[0]` elements go to rank 0, the
   * next `sendCounts[1]` to rank 1, and so on (`sendCounts` sums to
   * `buf.length`). Returns the received elements grouped by source rank and
   * how many came from each.
   */
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
  /**
   * A group over `ranks` (distinct ranks of this group; the caller must be one
   * of them): rank `i` of the sub-group is `ranks[i]` here. It shares this
   * group's transport and call queue, so parent and sub-group calls run one
   * at a time in issue order, and a failure in either breaks both. Like
   * torch's `new_group`, every member must create it with the same `ranks`.
   */
  newSubGroup(ranks: readonly number[]): ExtendedCollectiveGroupV1;
}
