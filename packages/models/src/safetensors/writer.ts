import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { PlexusModelsError } from '../errors.js';
import {
  DTYPE_BYTES,
  encodeArray,
  isSafetensorsDtype,
  type SafetensorsDtype,
  type TensorArray,
} from './dtypes.js';
import { shapeSize } from './header.js';

/** One tensor to write: host values with a shape, stored as `dtype` (default F32). */
export interface TensorToWrite {
  readonly shape: readonly number[];
  readonly data: TensorArray | readonly number[];
  readonly dtype?: SafetensorsDtype;
}

/**
 * Serialise tensors to the safetensors layout: u64 little-endian header
 * length, the JSON header padded with spaces to a multiple of 8 bytes (as the
 * reference writer does, so the data section is 8-byte aligned), then each
 * tensor's little-endian bytes in the order given.
 */
export function serializeSafetensors(
  tensors: Readonly<Record<string, TensorToWrite>> | ReadonlyMap<string, TensorToWrite>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const entries = tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) {
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string')
        throw new PlexusModelsError(
          'safetensors',
          `metadata '${k}' is ${typeof v}; expected a string`,
        );
    header.__metadata__ = { ...metadata };
  }
  const blobs: Uint8Array[] = [];
  let offset = 0;
  for (const [name, t] of entries) {
    if (name.length === 0 || name === '__metadata__')
      throw new PlexusModelsError(
        'safetensors',
        `tensor name '${name}' is reserved or empty; expected a non-empty name other than __metadata__`,
      );
    const dtype = t.dtype ?? 'F32';
    if (!isSafetensorsDtype(dtype))
      throw new PlexusModelsError(
        'safetensors',
        `tensor '${name}' dtype ${String(dtype)} is not supported`,
      );
    for (const d of t.shape)
      if (!Number.isSafeInteger(d) || d < 0)
        throw new PlexusModelsError(
          'safetensors',
          `tensor '${name}' has dim ${d}; expected non-negative integers`,
        );
    const n = shapeSize(t.shape);
    if (t.data.length !== n)
      throw new PlexusModelsError(
        'safetensors',
        `tensor '${name}' has ${t.data.length} values for shape [${t.shape.join(', ')}] (${n} elements)`,
      );
    const bytes = encodeArray(dtype, t.data);
    header[name] = {
      dtype,
      shape: [...t.shape],
      data_offsets: [offset, offset + n * DTYPE_BYTES[dtype]],
    };
    offset += bytes.byteLength;
    blobs.push(bytes);
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const p = new Uint8Array(padded).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const b of blobs) {
    out.set(b, at);
    at += b.byteLength;
  }
  return out;
}

/**
 * Write bytes to `path` atomically: a temporary file beside it, fsync, then
 * rename, so a crash leaves either the old file or the new one.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
  const fd = openSync(tmp, 'w');
  try {
    let done = 0;
    while (done < bytes.byteLength) done += writeSync(fd, bytes, done, bytes.byteLength - done);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** {@link serializeSafetensors} then {@link writeFileAtomic}. */
export function writeSafetensors(
  path: string,
  tensors: Readonly<Record<string, TensorToWrite>> | ReadonlyMap<string, TensorToWrite>,
  metadata?: Readonly<Record<string, string>>,
): void {
  writeFileAtomic(path, serializeSafetensors(tensors, metadata));
}
