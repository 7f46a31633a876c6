import { availableParallelism } from 'node:os';
import { PlexusCollectivesError } from '../errors.js';
import { segmentBounds } from '../reduce.js';
import { type DTypeName, dtypeOf, type ElementArray } from '../reduction/dtype.js';
import { NATIVE_DTYPE_CODE, NATIVE_OP_CODE } from '../reduction/native-reduce.js';
import {
  DTYPE_WORD,
  HEADER_BYTES,
  LENGTH_F64,
  OP_WORD,
  SEQ_WORD,
  SHARED_ID_WORD,
  SHARED_OFFSET_F64,
  type ZeroCopyChannel,
} from '../transport/shm/zero-copy.js';
import type { ReduceOp } from '../types.js';

const MODULE = 'shm-all-reduce';

/**
 * Longest a single futex wait blocks the event loop before this rank looks
 * at its control sockets again (a dead peer's closed socket is how a wait
 * learns it will never be woken).
 */
const WAIT_SLICE_MS = 20;

/** Polls of a peer's counter before sleeping on it (a few microseconds). */
const SPINS = 2000;

/**
 * From this buffer size the copy out uses non-temporal stores: the result
 * would leave the caches before anyone reads it anyway, and ordinary
 * stores would first read every destination line (and evict what the
 * peers read next). Not on the shared-array path while every rank has a
 * core: there a peer has just read the destination lines, so they are
 * still cached. bench/shm-copy-out.ts measures both ways (at 64 MiB the
 * streamed copy saved time except in that case; at 4-16 MiB it was mixed).
 */
const STREAM_MIN_BYTES = 32 << 20;

/**
 * From this buffer size the copy in uses non-temporal stores, but only
 * while the ranks outnumber the cores. With a core per rank the owner of a
 * chunk reads it within the step, while it is still cached, so bypassing
 * the cache slows the all-reduce (2 ranks on 2 cores, 64 MiB: 1.02-1.06x
 * the time); when four ranks share two cores the other ranks' work evicts
 * it before then anyway, and skipping the read of each destination line is
 * what counts (0.81-0.85x the time at 4 MiB, 0.88-0.91x at 16, 0.90-0.91x
 * at 64; bench/shm-copy-out.ts, results shm-copy-in-out*.json).
 */
const STREAM_IN_MIN_BYTES = 4 << 20;

const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Options of `shmAllReduce`. */
export interface ShmAllReduceOptions {
  /** Milliseconds before the call rejects with `timeout` (default 30 000). */
  timeoutMs?: number;
  /** When given, milliseconds spent in each step are added to it (for benchmarks). */
  profile?: ShmAllReduceProfile;
  /**
   * Buffer size from which the copy out uses non-temporal stores (default
   * 32 MiB, and never on the shared-array path while every rank has a
   * core; given, it applies to every path; `Infinity`: never). For benchmarks.
   */
  streamMinBytes?: number;
  /**
   * Copy in with non-temporal stores (default: when the ranks outnumber the
   * cores, from 4 MiB, or from `streamMinBytes` where given). For benchmarks.
   */
  streamCopyIn?: boolean;
  /** Called once the ranks know how their buffers lie (for tests and benchmarks). */
  onPlacement?: (placement: ShmBufferPlacement) => void;
}

/**
 * How the ranks' buffers of one all-reduce lie: `symmetric` when every
 * rank's is at the same offset of one shared allocation (no copy in),
 * `mixed` when only some are shared, `plain` when none is.
 */
export type ShmBufferPlacement = 'symmetric' | 'mixed' | 'plain';

/** Time per step of `shmAllReduce`, accumulated over calls. */
export interface ShmAllReduceProfile {
  copyIn: number;
  reduce: number;
  copyOut: number;
  /** Waiting for the peers' step counters (synchronisation and imbalance). */
  wait: number;
}

type Ctor = new (buffer: ArrayBuffer, byteOffset: number, length: number) => ElementArray;

/**
 * All-reduce in place over the shared-memory transport's zero-copy channel:
 * every rank's segment is mapped into every process, so a rank reduces its
 * own chunk straight out of the peers' copies instead of receiving them.
 *
 * The buffer is processed in pieces of `worldSize` chunks (one chunk per
 * rank, at most `halfBytes / worldSize` bytes each), alternating between the
 * two halves of each segment. For piece k, rank r
 *   1. copies the chunks j != r of its input into half k%2 of its segment,
 *   2. reduces chunk r in rank order from its own input and the peers' half
 *      k%2, writing the result to its input and to chunk r of its half,
 *   3. copies every peer's reduced chunk j out of the peer's half.
 * One futex sequence counter per rank separates the steps: after waiting
 * for every counter to reach step k, a rank copies piece k-1 out, reduces
 * piece k, copies piece k+1 in, then signals k+1, so each piece costs one
 * synchronisation and each byte moves once in, once through the reduction
 * and once out (the copies are the only traffic beyond the reduction
 * itself: `2 (n-1)/n` of the buffer, like the ring's sends, but as
 * memory copies rather than syscalls). Chunks sit at fixed offsets in a
 * half, so a short last piece never overlaps what a slower peer still reads.
 *
 * When every rank's buffer lies at the same offset of one shared
 * allocation (`ProcessGroup.allocateShared`), the copy in disappears: rank
 * r reduces chunk r of each piece straight out of the peers' buffers into
 * its own, and the peers copy it from there one step later (one more step
 * at the end keeps a rank from returning while a peer still reads its
 * buffer). The first step tells the ranks which case they are in; when only
 * some buffers are shared, all ranks take the copying path.
 *
 * Every element is reduced in rank order by one rank, so the result is
 * bit-identical on every rank and equal to a sequential reduction. The
 * first step checks that all ranks called with the same dtype, op and
 * length (`mismatch` otherwise). A peer that dies is noticed through its
 * closed control socket within `WAIT_SLICE_MS`; one that stalls makes the
 * call time out.
 */
export async function shmAllReduce<T extends ElementArray>(
  channel: ZeroCopyChannel,
  buf: T,
  op: ReduceOp,
  options: ShmAllReduceOptions = {},
): Promise<T> {
  const dtype = dtypeOf(buf);
  if (dtype === undefined) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      'expected buf to be a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array',
    );
  }
  const { rank, worldSize: n, native, halfBytes, segments, words, header64 } = channel;
  const timeoutMs = options.timeoutMs ?? 30_000;
  const deadline = performance.now() + timeoutMs;
  const Array_ = buf.constructor as Ctor;
  const elem = buf.BYTES_PER_ELEMENT;
  const chunkBytes = Math.floor(halfBytes / n / 64) * 64;
  const chunkCap = chunkBytes / elem;
  const pieceElems = chunkCap * n;
  const pieces = Math.max(1, Math.ceil(buf.length / pieceElems));
  const first = channel.pieces;
  const cores = availableParallelism();
  // Spin briefly before sleeping only when every rank can have a core (and
  // never when a peer shares this thread: it cannot move while we spin).
  const spins = channel.blocking && n <= cores ? SPINS : 0;

  const fail = (peer: number) => {
    const error = channel.failure(peer);
    if (error !== undefined) throw error;
  };
  fail(rank);
  const view = (owner: number, piece: number, chunk: number, length: number) =>
    new Array_(
      segments[owner]!,
      HEADER_BYTES + ((first + piece) % 2) * halfBytes + chunk * chunkBytes,
      length,
    );
  /** Element range of chunk `j` of piece `k` in `buf`. */
  const range = (k: number, j: number): [number, number] => {
    const start = k * pieceElems;
    const [s, e] = segmentBounds(Math.min(pieceElems, buf.length - start), n, j);
    return [start + s, start + e];
  };
  // See STREAM_IN_MIN_BYTES.
  const streamIn =
    options.streamCopyIn ??
    (n > cores && buf.byteLength >= (options.streamMinBytes ?? STREAM_IN_MIN_BYTES));
  const copyIn = (k: number) => {
    for (let j = 0; j < n; j++) {
      if (j === rank) continue;
      const [s, e] = range(k, j);
      if (e === s) continue;
      if (streamIn) native.streamCopy(view(rank, k, j, e - s), buf.subarray(s, e));
      else view(rank, k, j, e - s).set(buf.subarray(s, e) as never);
    }
  };
  // Where rank `owner`'s chunk `chunk` of piece `k` (elements [s, e) of the
  // buffer) is read from: its half, or on the symmetric path its own buffer.
  let chunkOf = (owner: number, k: number, chunk: number, s: number, e: number) =>
    view(owner, k, chunk, e - s);
  let symmetric = false;
  const reduce = (k: number) => {
    const [s, e] = range(k, rank);
    if (e === s) return;
    const own = buf.subarray(s, e);
    const sources: ArrayBufferView[] = [];
    for (let j = 0; j < n; j++) sources.push(j === rank ? own : chunkOf(j, k, rank, s, e));
    native.reduce(
      NATIVE_DTYPE_CODE[dtype],
      NATIVE_OP_CODE[op],
      op === 'avg' ? n : 0,
      own,
      // The peers copy the result out of our half, or out of our buffer itself.
      symmetric ? null : view(rank, k, rank, e - s),
      sources,
    );
  };
  // Settled once the placement is known (see STREAM_MIN_BYTES).
  let stream = buf.byteLength >= (options.streamMinBytes ?? STREAM_MIN_BYTES);
  /** `buf[s, s + src.length)` = `src`. */
  const put = (s: number, src: ElementArray) => {
    if (stream) native.streamCopy(buf.subarray(s, s + src.length), src);
    else buf.set(src as never, s);
  };
  const copyOut = (k: number) => {
    for (let j = 0; j < n; j++) {
      if (j === rank) continue;
      const [s, e] = range(k, j);
      if (e > s) put(s, chunkOf(j, k, j, s, e));
    }
  };
  const signal = () => {
    channel.seq = (channel.seq + 1) | 0;
    native.signal(words[rank]!, SEQ_WORD, channel.seq);
  };
  const waitAll = async (step: number) => {
    for (let p = 0; p < n; p++) {
      if (p === rank) continue;
      for (;;) {
        const left = deadline - performance.now();
        const slice = channel.blocking ? Math.max(0, Math.min(WAIT_SLICE_MS, left)) : 0;
        if (native.wait(words[p]!, SEQ_WORD, channel.seq, slice, spins)) break;
        // Let the control sockets' close events in: they mark a dead peer.
        await yieldToIo();
        fail(p);
        fail(rank);
        if (performance.now() >= deadline) {
          throw new PlexusCollectivesError(
            MODULE,
            'timeout',
            `rank ${p} did not reach step ${step} of this all-reduce within ${Math.round(timeoutMs)} ms`,
          );
        }
      }
    }
  };

  // Ranks compare what they were called with through their headers, and
  // learn where each other's buffer lives.
  const allocation = channel.shared.get(buf.buffer as ArrayBuffer);
  words[rank]![DTYPE_WORD] = NATIVE_DTYPE_CODE[dtype];
  words[rank]![OP_WORD] = NATIVE_OP_CODE[op];
  header64[rank]![LENGTH_F64] = buf.byteLength;
  words[rank]![SHARED_ID_WORD] = allocation?.id ?? -1;
  header64[rank]![SHARED_OFFSET_F64] = buf.byteOffset;
  const prof = options.profile;
  let t = prof === undefined ? 0 : performance.now();
  const lap = (step: keyof ShmAllReduceProfile) => {
    if (prof === undefined) return;
    const now = performance.now();
    prof[step] += now - t;
    t = now;
  };
  let steps = 0;
  const sync = async () => {
    signal();
    await waitAll(++steps);
    // close() may have run while this call awaited: its mappings are gone then.
    fail(rank);
    lap('wait');
  };

  if (allocation === undefined) copyIn(0);
  lap('copyIn');
  await sync();
  checkSameCall(channel, dtype, op, buf.byteLength);
  const placement = placementOf(channel);
  options.onPlacement?.(placement);
  if (placement === 'symmetric') {
    symmetric = true;
    const mapped = allocation!.mappings;
    chunkOf = (owner, _k, _chunk, s, e) =>
      new Array_(mapped[owner]!.buffer, buf.byteOffset + s * elem, e - s);
    if (options.streamMinBytes === undefined && n <= cores) stream = false;
  } else if (placement === 'mixed') {
    // Shared ranks skipped the first copy, expecting to share in place.
    if (allocation !== undefined) copyIn(0);
    lap('copyIn');
    await sync();
  }
  for (let k = 0; k < pieces; k++) {
    if (k > 0) copyOut(k - 1);
    lap('copyOut');
    reduce(k);
    lap('reduce');
    if (!symmetric && k + 1 < pieces) copyIn(k + 1);
    lap('copyIn');
    await sync();
  }
  copyOut(pieces - 1);
  lap('copyOut');
  if (symmetric) {
    // Peers read our buffer itself: nobody returns (and may write it again)
    // before every rank has copied out. The halves were not used.
    await sync();
  } else {
    channel.pieces = first + pieces;
  }
  return buf;
}

/** How the ranks' buffers lie, from their headers (the same answer on every rank). */
function placementOf(channel: ZeroCopyChannel): ShmBufferPlacement {
  const { words, header64, worldSize } = channel;
  const id = words[0]![SHARED_ID_WORD]!;
  const offset = header64[0]![SHARED_OFFSET_F64]!;
  let shared = 0;
  let same = true;
  for (let p = 0; p < worldSize; p++) {
    if (words[p]![SHARED_ID_WORD]! >= 0) shared++;
    if (words[p]![SHARED_ID_WORD] !== id || header64[p]![SHARED_OFFSET_F64] !== offset)
      same = false;
  }
  if (shared === worldSize && same) return 'symmetric';
  return shared > 0 ? 'mixed' : 'plain';
}

const DTYPE_NAMES = Object.keys(NATIVE_DTYPE_CODE);
const OP_NAMES = Object.keys(NATIVE_OP_CODE);

function checkSameCall(
  channel: ZeroCopyChannel,
  dtype: DTypeName,
  op: ReduceOp,
  bytes: number,
): void {
  const describe = (r: number) => {
    const w = channel.words[r]!;
    return `${channel.header64[r]![LENGTH_F64]} bytes of ${DTYPE_NAMES[w[DTYPE_WORD]!] ?? '?'} with op ${OP_NAMES[w[OP_WORD]!] ?? '?'}`;
  };
  for (let p = 0; p < channel.worldSize; p++) {
    const w = channel.words[p]!;
    if (
      w[DTYPE_WORD] !== NATIVE_DTYPE_CODE[dtype] ||
      w[OP_WORD] !== NATIVE_OP_CODE[op] ||
      channel.header64[p]![LENGTH_F64] !== bytes
    ) {
      throw new PlexusCollectivesError(
        MODULE,
        'mismatch',
        `rank ${p} called allReduce on ${describe(p)}, rank ${channel.rank} on ${describe(channel.rank)}: all ranks must pass the same length, type and op`,
      );
    }
  }
}
