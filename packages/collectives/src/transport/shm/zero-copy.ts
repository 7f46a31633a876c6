import { join } from 'node:path';
import type { PlexusCollectivesError } from '../../errors.js';
import type { NativeAddon, NativeMapping } from '../../native/addon.js';

/**
 * Bytes before the data halves of a rank's zero-copy segment. Int32 word 0
 * is the rank's futex sequence counter; words 2 and 3 hold the dtype and op
 * codes of the current all-reduce and the float64 at byte 16 its byte
 * length, so that ranks can check they run the same call. Words 7 and the
 * float64 at byte 32 say where the call's buffer lives (a shared
 * allocation's number and byte offset); words 10, 11 and the float64 at
 * byte 48 describe the shared allocation being made (`shared-buffers.ts`).
 */
export const HEADER_BYTES = 4096;
/** Int32 index of the sequence counter. */
export const SEQ_WORD = 0;
/** Int32 index of the dtype code of the running call. */
export const DTYPE_WORD = 2;
/** Int32 index of the op code of the running call. */
export const OP_WORD = 3;
/** Float64 index of the byte length of the running call. */
export const LENGTH_F64 = 2;
/** Int32 index of the process id of the segment's owner, written at creation. */
export const PID_WORD = 6;

/** Int32 index of the shared allocation holding the running all-reduce's buffer (-1: none). */
export const SHARED_ID_WORD = 7;
/** Float64 index of that buffer's byte offset in its shared allocation. */
export const SHARED_OFFSET_F64 = 4;
/** Int32 index of the number of the shared allocation being made. */
export const ALLOC_ID_WORD = 10;
/** Int32 index of the dtype code of the shared allocation being made. */
export const ALLOC_DTYPE_WORD = 11;
/** Float64 index of the byte length of the shared allocation being made. */
export const ALLOC_BYTES_F64 = 6;

/** Alignment of each rank's chunk inside a half: a cache line, and any element size. */
export const CHUNK_ALIGN = 64;

/**
 * Bytes of each of the two data halves of a zero-copy segment: the slot size,
 * but at least one aligned chunk per rank.
 */
export function dataHalfBytes(slotBytes: number, worldSize: number): number {
  const min = CHUNK_ALIGN * worldSize;
  return Math.ceil(Math.max(slotBytes, min) / CHUNK_ALIGN) * CHUNK_ALIGN;
}

/** Path of rank `rank`'s segment of shared allocation `allocation` (`shared-buffers.ts`). */
export function sharedBufferPath(
  dir: string,
  id: string,
  rank: number,
  allocation: number,
): string {
  return join(dir, `plexus-shm-${id}-${rank}-s${allocation}`);
}

/** Path of rank `rank`'s zero-copy segment, mapped by every rank of the group. */
export function dataSegmentPath(dir: string, id: string, rank: number): string {
  return join(dir, `plexus-shm-${id}-${rank}-z`);
}

/**
 * What the zero-copy all-reduce needs from the shared-memory transport: every
 * rank's segment mapped into this process (the same bytes in every rank), the
 * addon, and the running sequence counters. Mutable fields are owned by the
 * one all-reduce that runs at a time (group calls are serialised).
 */
export interface ZeroCopyChannel {
  readonly rank: number;
  readonly worldSize: number;
  readonly native: NativeAddon;
  /** Bytes of each of the two data halves; a half starts at `HEADER_BYTES + h * halfBytes`. */
  readonly halfBytes: number;
  /** Every rank's segment, indexed by rank (this rank's own included). */
  readonly segments: readonly ArrayBuffer[];
  /** Int32 view of each segment's header. */
  readonly words: readonly Int32Array[];
  /** Float64 view of each segment's header. */
  readonly header64: readonly Float64Array[];
  /** The last value this rank signalled (all ranks advance in step). */
  seq: number;
  /** Pieces processed so far; piece `k` uses half `k % 2`. */
  pieces: number;
  /**
   * Whether a wait may sleep in the kernel. False when a peer lives in this
   * very process (ranks on one event loop, as in tests): sleeping there
   * would stop the peer that must wake us, so waits poll and yield instead.
   */
  readonly blocking: boolean;
  /** Directory and group id that name the segment files (`sharedBufferPath`). */
  readonly dir: string;
  readonly id: string;
  /** Shared allocations (`allocateShared`), by this rank's own buffer. */
  readonly shared: Map<ArrayBuffer, SharedAllocation>;
  /** Shared allocations made so far: every rank numbers them alike. */
  allocations: number;
  /** Why the pair with `peer` (or the whole transport) can no longer be used, if so. */
  failure(peer: number): PlexusCollectivesError | undefined;
}

/** One shared allocation: every rank's segment of it, mapped into this process. */
export interface SharedAllocation {
  /** Its number, the same on every rank. */
  readonly id: number;
  /** Every rank's mapping, indexed by rank (this rank's own included). */
  readonly mappings: readonly NativeMapping[];
}

/** A mapped segment plus its header views. */
export interface MappedSegment {
  mapping: NativeMapping;
  words: Int32Array;
  header64: Float64Array;
}

/** Maps (creating with `create`) a zero-copy segment of `HEADER_BYTES + 2 * halfBytes`. */
export function mapDataSegment(
  native: NativeAddon,
  path: string,
  halfBytes: number,
  create: boolean,
): MappedSegment {
  const mapping = native.map(path, HEADER_BYTES + 2 * halfBytes, create);
  return {
    mapping,
    words: new Int32Array(mapping.buffer, 0, HEADER_BYTES / 4),
    header64: new Float64Array(mapping.buffer, 0, HEADER_BYTES / 8),
  };
}
