import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A mapping made by the addon: the shared bytes and the handle that unmaps them. */
export interface NativeMapping {
  buffer: ArrayBuffer;
  handle: object;
}

/**
 * The functions of native/plexus_shm.cc (see there for the exact semantics):
 * shared-memory mappings and futexes for the shm transport, reductions for
 * every algorithm, and the TCP transport's frame CRC-32.
 */
export interface NativeAddon {
  /** Opens (or exclusively creates and sizes) `path` and maps `bytes` of it MAP_SHARED. */
  map(path: string, bytes: number, create: boolean): NativeMapping;
  /** Detaches `buffer` and unmaps it now instead of at garbage collection. */
  unmap(handle: object, buffer: ArrayBuffer): void;
  /** `out1 = out2 = sources[0] op sources[1] op ...` (then `/ divisor` when > 0), elementwise. */
  reduce(
    dtype: number,
    op: number,
    divisor: number,
    out1: ArrayBufferView,
    out2: ArrayBufferView | null,
    sources: ArrayBufferView[],
  ): void;
  /** `dst.set(src)` for views of the same byte length that do not overlap, with non-temporal (cache-bypassing) stores. */
  streamCopy(dst: ArrayBufferView, src: ArrayBufferView): void;
  /** Stores `value` into `word[index]` with release order and wakes its futex waiters. */
  signal(word: Int32Array, index: number, value: number): void;
  /**
   * Waits until `word[index] - target >= 0` (wrapping), polling `spins`
   * times before sleeping on the futex; false after `timeoutMs`.
   */
  wait(word: Int32Array, index: number, target: number, timeoutMs: number, spins: number): boolean;
  /** zlib's `crc32(view, crc)`: continues `crc` over the view's bytes. */
  crc32(crc: number, view: ArrayBufferView): number;
  /**
   * Starts the TCP data path of one peer (native/tcp_engine.h) on duplicates
   * of the descriptors, continuing each connection's frame numbering; events
   * arrive on `onEvent` (kind, msgSeq, staged message, connection, reason).
   */
  tcpOpen(
    config: NativeTcpConfig,
    sendFds: number[],
    sendSeqs: number[],
    recvFds: number[],
    recvSeqs: number[],
    label: string,
    onEvent: (
      kind: number,
      msgSeq: number,
      staged: ArrayBuffer | undefined,
      conn: number,
      reason: string,
    ) => void,
  ): object;
  /** Queues message `msgSeq`; the view must stay untouched until its send-done event. */
  tcpSend(handle: object, msgSeq: number, view: ArrayBufferView): void;
  /**
   * Posts the receive of `msgSeq`. If it had already arrived: `true` when it
   * was copied into `into`, else the message (`into` absent or of another size).
   */
  tcpPostRecv(
    handle: object,
    msgSeq: number,
    into: ArrayBufferView | null,
  ): ArrayBuffer | true | undefined;
  /** Stops the peer's threads (joined before returning) and closes its descriptors. */
  tcpClose(handle: object, graceful: boolean): void;
  /**
   * Starts one rank's part of a ring all-reduce on the threads of `left`
   * (receives `recvBase`...) and `right` (sends `sendBase`...), as planned
   * row by row (native/ring_op.h); an event of kind 6 with `id` says it is
   * done. `buf` must stay untouched until then.
   */
  tcpRingAllReduce(
    left: object,
    right: object,
    id: number,
    recvBase: number,
    sendBase: number,
    dtype: number,
    buf: ArrayBufferView,
    recvPlan: Float64Array,
    sendPlan: Float64Array,
  ): object;
  /** Messages of the ring all-reduce `tcpRingAllReduce` returned `op` for that have finished. */
  tcpRingProgress(op: object): number;
}

/** Framing limits of the native TCP data path (numbers: the addon reads them as doubles). */
export interface NativeTcpConfig {
  frameBytes: number;
  maxFrameBytes: number;
  maxMessageBytes: number;
  stripeMinBytes: number;
  /** 1: send and require CRC-32 on data frames; 0: send none, check those that carry one. */
  checksum: number;
}

/** File name of the addon built for this platform by scripts/build-native.mjs. */
export const ADDON_FILE = `plexus_shm-${process.platform}-${process.arch}.node`;

let loaded: { native: NativeAddon | undefined; why: string } | undefined;

/**
 * The native addon, loaded once per process, or `undefined` with the reason:
 * not built (no compiler when the package was built, or another platform),
 * or failing to load. Looked for in the package's `native/build/` (where
 * scripts/build-native.mjs puts it and the published package carries it),
 * from the bundle in `dist/` and from the sources alike.
 */
export function loadNativeAddon(): { native: NativeAddon | undefined; why: string } {
  if (loaded !== undefined) return loaded;
  // dist/ in the ESM and CJS builds (tsup shims import.meta.url there), src/transport/shm/ from the sources.
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [
    join(here, '..', 'native', 'build', ADDON_FILE),
    join(here, '..', '..', 'native', 'build', ADDON_FILE),
  ];
  const path = candidates.find((p) => existsSync(p));
  if (path === undefined) {
    loaded = {
      native: undefined,
      why: `${ADDON_FILE} was not built (run scripts/build-native.mjs with g++ and Node's headers installed); looked in ${candidates.join(', ')}`,
    };
    return loaded;
  }
  try {
    const native = createRequire(join(here, 'noop.js'))(path) as NativeAddon;
    loaded = { native, why: `loaded ${path}` };
  } catch (error) {
    loaded = { native: undefined, why: `loading ${path} failed: ${(error as Error).message}` };
  }
  return loaded;
}
