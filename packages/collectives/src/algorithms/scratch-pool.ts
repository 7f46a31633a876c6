import type { ElementArray } from '../reduction/dtype.js';

/** Buffers kept between collectives; larger ones are dropped rather than pinned. */
const MAX_POOLED_BYTES = 256 << 20;
const MAX_POOLED = 2;
const pool: ArrayBuffer[] = [];

/**
 * A scratch array of `length` elements of `like`'s type, from a small pool of
 * buffers reused across calls. A large collective otherwise allocates a fresh
 * zero-filled buffer every call, and the page faults and zeroing of a new
 * 32 MiB buffer cost about as much kernel time as sending it over loopback.
 * Contents are arbitrary; give it back with `releaseScratch` when done.
 */
export function takeScratch<T extends ElementArray>(like: T, length: number): T {
  const bytes = length * like.BYTES_PER_ELEMENT;
  let buffer: ArrayBuffer | undefined;
  let best = -1;
  for (let i = 0; i < pool.length; i++) {
    const b = pool[i]!;
    if (b.byteLength >= bytes && (best < 0 || b.byteLength < pool[best]!.byteLength)) best = i;
  }
  if (best >= 0) buffer = pool.splice(best, 1)[0];
  buffer ??= new ArrayBuffer(Math.max(bytes, 64));
  const Ctor = like.constructor as new (buf: ArrayBuffer, offset: number, length: number) => T;
  return new Ctor(buffer, 0, length);
}

/** Returns a buffer from `takeScratch` to the pool (keeping the largest few). */
export function releaseScratch(scratch: ElementArray): void {
  const buffer = scratch.buffer as ArrayBuffer;
  if (buffer.byteLength > MAX_POOLED_BYTES || pool.includes(buffer)) return;
  pool.push(buffer);
  pool.sort((a, b) => b.byteLength - a.byteLength);
  pool.length = Math.min(pool.length, MAX_POOLED);
}
