/** Typed arrays the collectives accept. */
export type CollectiveBuffer = Float32Array | Float64Array | Int32Array;

/** Reduction operators. `avg` divides the sum by the world size (truncating for Int32Array). */
export type ReduceOp = 'sum' | 'prod' | 'min' | 'max' | 'avg';

/** Per-call options. */
export interface CollectiveCallOptions {
  /** Milliseconds before the call rejects with a `timeout` error. Defaults to the group's. */
  timeoutMs?: number;
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
  /** In place: every rank ends with the element-wise reduction over all ranks (ring algorithm). */
  allReduce<T extends CollectiveBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  /** In place: every rank ends with `root`'s buffer. */
  broadcast<T extends CollectiveBuffer>(
    buf: T,
    root: number,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  /** Returns a new array of `worldSize * buf.length` elements, rank `r`'s buffer at `r * buf.length`. */
  allGather<T extends CollectiveBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T>;
  /**
   * Reduces over all ranks and returns this rank's segment as a new array.
   * The buffer is split into `worldSize` contiguous segments; the first
   * `length % worldSize` segments hold one element more (see `segmentBounds`).
   */
  reduceScatter<T extends CollectiveBuffer>(
    buf: T,
    op: ReduceOp,
    options?: CollectiveCallOptions,
  ): Promise<T>;
  /**
   * Equal splits: `buf.length` must be divisible by `worldSize`. Chunk `j` of
   * the input goes to rank `j`; chunk `j` of the returned array came from rank `j`.
   */
  allToAll<T extends CollectiveBuffer>(buf: T, options?: CollectiveCallOptions): Promise<T>;
  /** Resolves once every rank has entered the barrier. */
  barrier(options?: CollectiveCallOptions): Promise<void>;
  /**
   * Sends `buf` to rank `dst`; resolves once the last chunk is in the channel
   * (the receiver may not have taken it yet; `buf` may be reused at once).
   */
  send(buf: CollectiveBuffer, dst: number, options?: CollectiveCallOptions): Promise<void>;
  /** Receives into `buf` (same byte length as the sender's) from rank `src`. */
  recv<T extends CollectiveBuffer>(
    buf: T,
    src: number,
    options?: CollectiveCallOptions,
  ): Promise<T>;
}
