import { createHash } from 'node:crypto';
import { PlexusCollectivesError } from '../errors.js';
import { FT_MODULE, type KeyDigest, type StateDigest } from './protocol.js';

/** Typed arrays a shared state may hold. */
export type SharedTensor =
  | Float32Array
  | Float64Array
  | Int32Array
  | Uint32Array
  | Int16Array
  | Uint16Array
  | Int8Array
  | Uint8Array
  | BigInt64Array
  | BigUint64Array;

/** A shared state: named typed arrays that every peer must hold bit-identically. */
export type SharedState = Record<string, SharedTensor>;

const CTORS = [
  Float32Array,
  Float64Array,
  Int32Array,
  Uint32Array,
  Int16Array,
  Uint16Array,
  Int8Array,
  Uint8Array,
  BigInt64Array,
  BigUint64Array,
];

/** The raw bytes of `t` (no copy). */
export function tensorBytes(t: SharedTensor): Uint8Array {
  return new Uint8Array(t.buffer, t.byteOffset, t.byteLength);
}

/** sha256 over element type, length and bytes, so equal hashes mean bit-identical arrays of one type. */
export function hashBytes(dtype: string, length: number, bytes: Uint8Array): string {
  return createHash('sha256').update(`${dtype}:${length}:`).update(bytes).digest('hex');
}

/** Throws a typed error unless `state` is a non-empty record of supported typed arrays. */
export function checkState(state: unknown): SharedState {
  if (typeof state !== 'object' || state === null || Array.isArray(state)) {
    throw new PlexusCollectivesError(
      FT_MODULE,
      'invalid-argument',
      'expected the shared state to be an object of named typed arrays',
    );
  }
  const names = Object.keys(state);
  if (names.length === 0) {
    throw new PlexusCollectivesError(
      FT_MODULE,
      'invalid-argument',
      'expected the shared state to hold at least one typed array',
    );
  }
  for (const name of names) {
    const v = (state as Record<string, unknown>)[name];
    if (!CTORS.some((C) => v instanceof C)) {
      throw new PlexusCollectivesError(
        FT_MODULE,
        'invalid-argument',
        `expected shared state entry "${name}" to be a typed array (Float32Array, Float64Array, Int8/16/32Array, Uint8/16/32Array, BigInt64Array or BigUint64Array)`,
      );
    }
  }
  return state as SharedState;
}

/**
 * Digest of a shared state: sha256 of each array (with its element type and
 * length) and one hash over the sorted names and their hashes. Peers compare
 * these instead of the data, as PCCL compares shared-state hashes.
 */
export function digestState(state: SharedState): StateDigest {
  const keys: Record<string, KeyDigest> = {};
  const total = createHash('sha256');
  for (const name of Object.keys(state).sort()) {
    const t = state[name]!;
    const dtype = t.constructor.name;
    const d = { dtype, length: t.length, hash: hashBytes(dtype, t.length, tensorBytes(t)) };
    keys[name] = d;
    total.update(`${name}\0${d.hash}\0`);
  }
  return { total: total.digest('hex'), keys };
}

/** The layout (names, element types, lengths) of a digest, which every peer's state must share. */
export function layoutSignature(digest: StateDigest): string {
  const parts = Object.keys(digest.keys)
    .sort()
    .map((k) => `${k}:${digest.keys[k]!.dtype}:${digest.keys[k]!.length}`);
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}
