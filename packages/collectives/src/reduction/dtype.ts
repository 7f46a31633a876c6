import { PlexusCollectivesError } from '../errors.js';

/**
 * Typed arrays the algorithms reduce and move. Integer arithmetic wraps
 * (Int32 modulo 2^32, BigInt64 modulo 2^64, Uint8 modulo 2^8) because the
 * result is stored back into the same element type.
 */
export type ElementArray = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array;

/** Short element-type names, as used by the wasm kernel and the benchmarks. */
export type DTypeName = 'f32' | 'f64' | 'i32' | 'i64' | 'u8';

/** The element-type name of `buf`, or `undefined` for an unsupported value. */
export function dtypeOf(buf: unknown): DTypeName | undefined {
  if (buf instanceof Float32Array) return 'f32';
  if (buf instanceof Float64Array) return 'f64';
  if (buf instanceof Int32Array) return 'i32';
  if (buf instanceof BigInt64Array) return 'i64';
  if (buf instanceof Uint8Array) return 'u8';
  return undefined;
}

/** Throws unless `buf` is one of the five supported typed arrays. */
export function checkElementArray(module: string, name: string, buf: unknown): ElementArray {
  if (dtypeOf(buf) === undefined) {
    const got =
      typeof buf === 'object' && buf !== null ? (buf.constructor?.name ?? 'object') : typeof buf;
    throw new PlexusCollectivesError(
      module,
      'invalid-argument',
      `expected ${name} to be a Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got ${got}`,
    );
  }
  return buf as ElementArray;
}

/** A byte view of `buf` (no copy). */
export function bytesOf(buf: ElementArray): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** A new zero-filled array of the same element type as `buf`. */
export function like<T extends ElementArray>(buf: T, length: number): T {
  const Ctor = buf.constructor as new (n: number) => T;
  return new Ctor(length);
}

/** `buf.subarray(start, end)` with the element type kept. */
export function slice<T extends ElementArray>(buf: T, start: number, end: number): T {
  return buf.subarray(start, end) as T;
}
