// Shared allocations: arrays whose memory every rank of a shared-memory
// group has mapped, so that the zero-copy all-reduce reads a peer's input
// where it lies, instead of the copy the peer would otherwise make into its
// segment first. Symmetric memory, as in PyTorch's SymmetricMemory or NCCL's
// ncclMemAlloc with registered buffers: every rank allocates the same type
// and length, in the same order.
import { PlexusCollectivesError } from '../../errors.js';
import type { NativeMapping } from '../../native/addon.js';
import { dtypeOf, type ElementArray } from '../../reduction/dtype.js';
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

const DTYPES = ['f32', 'f64', 'i32', 'i64', 'u8'] as const;

/** Largest allocation accepted (1 TiB, the addon's mapping limit). */
const MAX_BYTES = 2 ** 40;

/**
 * Checks `type` and `length` as `allocateShared` takes them and returns the
 * dtype code (an index of `DTYPES`).
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
  return DTYPES.indexOf(probe);
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

/**
 * Makes a shared allocation on every rank of `channel`'s group (collective:
 * all ranks call it with the same type and length, in the same order).
 * Each rank creates its segment and writes what it made into its header;
 * after `barrier` every rank checks the others' headers and maps their
 * segments; after a second `barrier` the files are unlinked, so nothing is
 * left in /dev/shm however the processes end later. Zero-filled.
 */
export async function allocateShared<T extends ElementArray>(
  channel: ZeroCopyChannel,
  type: ElementArrayType<T>,
  length: number,
  barrier: () => Promise<void>,
): Promise<T> {
  const dtype = checkAllocation(type, length);
  const ownFailure = channel.failure(channel.rank);
  if (ownFailure !== undefined) throw ownFailure;
  const { rank, worldSize, native, words, header64 } = channel;
  const id = channel.allocations++;
  // A segment is never empty: a zero-length allocation still takes part.
  const bytes = Math.max(length * type.BYTES_PER_ELEMENT, 64);
  const ownPath = sharedBufferPath(channel.dir, channel.id, rank, id);
  const mappings: (NativeMapping | undefined)[] = new Array(worldSize).fill(undefined);
  let createError: string | undefined;
  try {
    mappings[rank] = native.map(ownPath, bytes, true);
  } catch (error) {
    createError = (error as Error).message;
  }
  words[rank]![ALLOC_ID_WORD] = id;
  words[rank]![ALLOC_DTYPE_WORD] = dtype;
  header64[rank]![ALLOC_BYTES_F64] = createError === undefined ? bytes : -1;
  try {
    await barrier();
    for (let p = 0; p < worldSize; p++) {
      const theirs = header64[p]![ALLOC_BYTES_F64]!;
      if (theirs === -1) {
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
    for (let p = 0; p < worldSize; p++) {
      if (p !== rank) {
        mappings[p] = native.map(sharedBufferPath(channel.dir, channel.id, p, id), bytes, false);
      }
    }
    await barrier();
  } catch (error) {
    for (const m of mappings) if (m !== undefined) native.unmap(m.handle, m.buffer);
    throw error;
  } finally {
    unlinkQuietly(ownPath);
  }
  const own = mappings[rank]!;
  channel.shared.set(own.buffer, { id, mappings: mappings as NativeMapping[] });
  return new type(own.buffer, 0, length);
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
  for (const m of allocation.mappings) channel.native.unmap(m.handle, m.buffer);
  return true;
}

/** Unmaps every shared allocation of `channel` (the transport is closing). */
export function releaseAllShared(channel: ZeroCopyChannel): void {
  for (const allocation of channel.shared.values()) {
    for (const m of allocation.mappings) channel.native.unmap(m.handle, m.buffer);
  }
  channel.shared.clear();
}
