// Shared allocations: arrays whose memory every rank of a shared-memory
// group has mapped, so that the zero-copy all-reduce reads a peer's input
// where it lies, instead of the copy the peer would otherwise make into its
// segment first. Symmetric memory, as in PyTorch's SymmetricMemory or NCCL's
// ncclMemAlloc with registered buffers: every rank allocates the same type
// and length, in the same order.
import { PlexusCollectivesError } from '../../errors.js';
import type { NativeAddon, NativeMapping } from '../../native/addon.js';
import { dtypeOf, type ElementArray } from '../../reduction/dtype.js';
import { NATIVE_DTYPE_CODE } from '../../reduction/native-reduce.js';
import { unlinkQuietly } from './segment.js';
import {
  ALLOC_BYTES_F64,
  ALLOC_DTYPE_WORD,
  ALLOC_ID_WORD,
  sharedBufferPath,
  type ZeroCopyChannel,
} from './zero-copy.js';

const MODULE = 'shm-shared-buffers';

/** A constructor of one of the five element arrays the collectives take. */
export interface ElementArrayType<T extends ElementArray> {
  new (length: number): T;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
}

/** Element-type names by the addon's dtype code. */
const DTYPES = Object.keys(NATIVE_DTYPE_CODE);

/** Largest allocation accepted (1 TiB, the addon's mapping limit). */
const MAX_BYTES = 2 ** 40;

/**
 * Checks `type` and `length` as `allocateShared` takes them and returns the
 * addon's dtype code.
 */
export function checkAllocation<T extends ElementArray>(
  type: ElementArrayType<T>,
  length: number,
): number {
  const probe = typeof type === 'function' ? dtypeOf(safeNew(type)) : undefined;
  if (probe === undefined) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected type to be Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got ${describe(type)}`,
    );
  }
  if (!Number.isSafeInteger(length) || length < 0 || length * type.BYTES_PER_ELEMENT > MAX_BYTES) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected length to be an integer from 0 to ${MAX_BYTES / type.BYTES_PER_ELEMENT} (1 TiB of ${type.name}), got ${String(length)}`,
    );
  }
  return NATIVE_DTYPE_CODE[probe];
}

function safeNew(type: unknown): unknown {
  try {
    return new (type as new (n: number) => unknown)(0);
  } catch {
    return undefined;
  }
}

function describe(value: unknown): string {
  if (typeof value === 'function') return value.name || 'an anonymous function';
  return value === null ? 'null' : typeof value;
}

/** What `allocateShared` needs of the group besides the channel: two collectives. */
export interface AllocationCollectives {
  /** Returns once every rank has called it. */
  barrier(): Promise<void>;
  /** The smallest of the ranks' values, on every rank. */
  minOverRanks(value: number): Promise<number>;
}

/** Header value of `ALLOC_BYTES_F64` for a rank whose segment could not be created. */
const CREATE_FAILED = -1;
/** Header value of `ALLOC_BYTES_F64` for a rank whose arguments were rejected. */
const INVALID_ARGUMENTS = -2;

/** The allocation each channel is making: the next one waits for it. */
const inFlight = new WeakMap<ZeroCopyChannel, Promise<unknown>>();

/**
 * Makes a shared allocation on every rank of `channel`'s group (collective:
 * all ranks call it with the same type and length, in the same order).
 * Calls on one channel run one after another, so overlapping calls number
 * their allocations in call order. Each rank creates its segment and writes
 * what it made (or why it could not) into its header; after a barrier every
 * rank checks the others' headers (so a bad argument or a failed creation
 * on one rank fails every rank at once) and maps their segments; the ranks
 * then agree that all mappings succeeded, and every rank unlinks every
 * file, so nothing is left in /dev/shm however the processes end later.
 * Any failure unlinks them too. Zero-filled.
 */
export function allocateShared<T extends ElementArray>(
  channel: ZeroCopyChannel,
  type: ElementArrayType<T>,
  length: number,
  group: AllocationCollectives,
): Promise<T> {
  const run = (inFlight.get(channel) ?? Promise.resolve())
    .catch(() => {})
    .then(() => allocateNow(channel, type, length, group));
  inFlight.set(channel, run);
  return run;
}

async function allocateNow<T extends ElementArray>(
  channel: ZeroCopyChannel,
  type: ElementArrayType<T>,
  length: number,
  group: AllocationCollectives,
): Promise<T> {
  const ownFailure = channel.failure(channel.rank);
  if (ownFailure !== undefined) throw ownFailure;
  const { rank, worldSize, native, words, header64 } = channel;
  const id = channel.allocations++;
  const paths = Array.from({ length: worldSize }, (_, p) =>
    sharedBufferPath(channel.dir, channel.id, p, id),
  );
  const unlinkAll = () => {
    for (const path of paths) unlinkQuietly(path);
  };
  let dtype = -1;
  let bytes = 0;
  let argumentError: unknown;
  let createError: string | undefined;
  const mappings: (NativeMapping | undefined)[] = new Array(worldSize).fill(undefined);
  try {
    dtype = checkAllocation(type, length);
    // A segment is never empty: a zero-length allocation still takes part.
    bytes = Math.max(length * type.BYTES_PER_ELEMENT, 64);
  } catch (error) {
    argumentError = error;
  }
  if (argumentError === undefined) {
    try {
      mappings[rank] = native.map(paths[rank]!, bytes, true);
    } catch (error) {
      createError = (error as Error).message;
    }
  }
  words[rank]![ALLOC_ID_WORD] = id;
  words[rank]![ALLOC_DTYPE_WORD] = dtype;
  header64[rank]![ALLOC_BYTES_F64] =
    argumentError !== undefined
      ? INVALID_ARGUMENTS
      : createError !== undefined
        ? CREATE_FAILED
        : bytes;
  // A process that exits normally mid-allocation takes its file with it.
  process.on('exit', unlinkAll);
  try {
    await group.barrier();
    checkHeaders(channel, id, dtype, bytes, argumentError, createError);
    let mapError: string | undefined;
    try {
      for (let p = 0; p < worldSize; p++) {
        if (p !== rank) mappings[p] = native.map(paths[p]!, bytes, false);
      }
    } catch (error) {
      mapError = (error as Error).message;
    }
    const failed = await group.minOverRanks(mapError === undefined ? worldSize : rank);
    if (failed < worldSize) {
      throw new PlexusCollectivesError(
        MODULE,
        'broken',
        failed === rank
          ? `rank ${rank} could not map the other ranks' shared segments: ${mapError}`
          : `rank ${failed} could not map the other ranks' shared segments (its own error says why)`,
      );
    }
    // destroy() may have run while this call awaited: its mappings are gone then.
    const closed = channel.failure(rank);
    if (closed !== undefined) throw closed;
  } catch (error) {
    unmapAll(native, mappings);
    throw error;
  } finally {
    // Every rank has mapped every segment, or the allocation failed.
    unlinkAll();
    process.off('exit', unlinkAll);
  }
  const own = mappings[rank]!;
  channel.shared.set(own.buffer, { id, mappings: mappings as NativeMapping[] });
  return new type(own.buffer, 0, length);
}

/**
 * After the first barrier: every rank reads every header and so throws the
 * same way, before anyone maps a peer's segment.
 */
function checkHeaders(
  channel: ZeroCopyChannel,
  id: number,
  dtype: number,
  bytes: number,
  argumentError: unknown,
  createError: string | undefined,
): void {
  const { rank, worldSize, words, header64 } = channel;
  if (argumentError !== undefined) throw argumentError;
  for (let p = 0; p < worldSize; p++) {
    const theirs = header64[p]![ALLOC_BYTES_F64]!;
    if (theirs === INVALID_ARGUMENTS) {
      throw new PlexusCollectivesError(
        MODULE,
        'mismatch',
        `rank ${p} called allocateShared with arguments it rejected (its own error says which); rank ${rank} asked for ${bytes} bytes of ${DTYPES[dtype]}`,
      );
    }
    if (theirs === CREATE_FAILED) {
      throw new PlexusCollectivesError(
        MODULE,
        'broken',
        p === rank
          ? `rank ${rank} could not create its shared segment: ${createError}`
          : `rank ${p} could not create its shared segment (its own error says why; /dev/shm may be full)`,
      );
    }
    if (
      words[p]![ALLOC_ID_WORD] !== id ||
      words[p]![ALLOC_DTYPE_WORD] !== dtype ||
      theirs !== bytes
    ) {
      throw new PlexusCollectivesError(
        MODULE,
        'mismatch',
        `rank ${p} made shared allocation #${words[p]![ALLOC_ID_WORD]} of ${theirs} bytes of ${DTYPES[words[p]![ALLOC_DTYPE_WORD]!] ?? '?'}, rank ${rank} #${id} of ${bytes} bytes of ${DTYPES[dtype]}: every rank must call allocateShared with the same type and length, in the same order`,
      );
    }
  }
}

/**
 * Unmaps the shared allocation that `buf` views, in this process only (a
 * peer's mapping of it stays valid until that peer releases it too); every
 * view of it becomes detached. True when `buf` was shared.
 */
export function releaseShared(channel: ZeroCopyChannel, buf: ElementArray): boolean {
  const allocation = channel.shared.get(buf.buffer as ArrayBuffer);
  if (allocation === undefined) return false;
  channel.shared.delete(buf.buffer as ArrayBuffer);
  unmapAll(channel.native, allocation.mappings);
  return true;
}

/** Unmaps every shared allocation of `channel` (the transport is closing). */
export function releaseAllShared(channel: ZeroCopyChannel): void {
  for (const allocation of channel.shared.values()) unmapAll(channel.native, allocation.mappings);
  channel.shared.clear();
}

/** Unmaps every mapping given (the views on them become detached); holes are skipped. */
function unmapAll(native: NativeAddon, mappings: readonly (NativeMapping | undefined)[]): void {
  for (const m of mappings) if (m !== undefined) native.unmap(m.handle, m.buffer);
}
