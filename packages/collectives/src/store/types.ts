/** Per-call options of a store. */
export interface StoreCallOptions {
  /** Milliseconds before a waiting call rejects with a `timeout` error. Defaults to the store's. */
  timeoutMs?: number;
}

/** A value as given to a store; strings are stored as UTF-8. */
export type StoreValue = string | Uint8Array;

/**
 * A key-value store shared by every rank, for rendezvous and small shared
 * state, with the semantics of `torch.distributed.Store`: `get` and `wait`
 * block until the key exists, `add` treats the value as a decimal integer
 * counter, `compareSet` swaps atomically. Implementations: the built-in TCP
 * store (`createTcpStore`) and a Redis-backed one (`createRedisStore`).
 */
export interface StoreV1 {
  readonly specificationVersion: 'v1';
  /** Sets `key` to `value` (overwriting). */
  set(key: string, value: StoreValue, options?: StoreCallOptions): Promise<void>;
  /** The value of `key`, waiting until it is set (rejects with `timeout` after the timeout). */
  get(key: string, options?: StoreCallOptions): Promise<Uint8Array>;
  /**
   * Adds `amount` to the integer stored at `key` (absent counts as 0) and
   * returns the new value; the value is kept as a decimal string.
   */
  add(key: string, amount: number, options?: StoreCallOptions): Promise<number>;
  /**
   * Atomically: if the current value equals `expected` (`null`: the key is
   * absent), sets it to `desired`. Returns the value held afterwards (the
   * current one when the swap did not happen; `null` if absent).
   */
  compareSet(
    key: string,
    expected: StoreValue | null,
    desired: StoreValue,
    options?: StoreCallOptions,
  ): Promise<Uint8Array | null>;
  /** Deletes `key`; resolves to whether it existed. */
  delete(key: string, options?: StoreCallOptions): Promise<boolean>;
  /** Whether every key in `keys` is set, without waiting. */
  check(keys: readonly string[], options?: StoreCallOptions): Promise<boolean>;
  /** Waits until every key in `keys` is set. */
  wait(keys: readonly string[], options?: StoreCallOptions): Promise<void>;
  /** Closes this client's connection (a hosted server keeps running until its own close). */
  close(): Promise<void>;
  /**
   * The local address of the connection to the store, when there is one:
   * the interface through which this host reaches the master, a good address
   * to advertise to the other ranks.
   */
  readonly localAddress?: string | undefined;
}

/** UTF-8 bytes of a store value. */
export function valueBytes(value: StoreValue): Uint8Array {
  return typeof value === 'string' ? new TextEncoder().encode(value) : value;
}
