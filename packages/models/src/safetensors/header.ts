import { PlexusModelsError } from '../errors.js';
import {
  DTYPE_BYTES,
  isSafetensorsDtype,
  SAFETENSORS_DTYPES,
  type SafetensorsDtype,
} from './dtypes.js';

/** Where one tensor lives in a safetensors file, as its header says. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** Byte offsets `[begin, end)` relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
}

/** A validated safetensors header. */
export interface SafetensorsHeader {
  /** Tensors in file order (ascending offsets). */
  readonly tensors: readonly TensorInfo[];
  /** The free-form string map under `__metadata__` (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** Bytes of the JSON header (the u64 at the start of the file). */
  readonly headerLength: number;
  /** Absolute file offset of the data section: `8 + headerLength`. */
  readonly dataStart: number;
}

/**
 * The largest header accepted, as in the reference implementation: a header
 * length beyond it is far more likely a corrupt file than a real model.
 */
export const MAX_HEADER_BYTES = 100_000_000;

const MODULE = 'safetensors';

function fail(message: string): never {
  throw new PlexusModelsError(MODULE, message);
}

/**
 * Read the header length from the first 8 bytes and check it fits in a file
 * of `fileSize` bytes. Returns the length as a safe integer.
 */
export function parseHeaderLength(prefix: Uint8Array, fileSize: number): number {
  if (fileSize < 8 || prefix.length < 8)
    fail(`file has ${fileSize} bytes; expected at least 8 (the little-endian u64 header length)`);
  const n = new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    fail(`header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  const len = Number(n);
  if (8 + len > fileSize)
    fail(
      `header length ${len} runs past the end of the file (${fileSize} bytes, header ends at ${8 + len})`,
    );
  if (len < 2) fail(`header length ${len} is too short for a JSON object`);
  return len;
}

/**
 * Parse and validate the JSON header against a data section of `dataSize`
 * bytes. Rejects: non-UTF-8 or non-JSON text, a non-object, unknown dtypes,
 * negative or non-integer dims, offsets outside the data section or not
 * `begin <= end`, byte sizes that disagree with shape × dtype, overlapping
 * tensors, and holes or trailing bytes (the specification requires the data
 * section to be indexed entirely, which also rules out polyglot files).
 */
export function parseHeader(headerBytes: Uint8Array, dataSize: number): SafetensorsHeader {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerBytes);
  } catch {
    fail('header is not valid UTF-8; expected a UTF-8 JSON object');
  }
  if (!text.startsWith('{'))
    fail(`header starts with ${JSON.stringify(text.slice(0, 8))}; expected a JSON object '{'`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail(`header is not valid JSON (${(e as Error).message}); expected a JSON object`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json))
    fail('header must be a JSON object mapping tensor names to {dtype, shape, data_offsets}');
  const metadata: Record<string, string> = {};
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
        fail('__metadata__ must be an object of string values');
      for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
        if (typeof v !== 'string') fail(`__metadata__.${k} is ${typeof v}; expected a string`);
        metadata[k] = v;
      }
      continue;
    }
    tensors.push(parseEntry(name, entry, dataSize));
  }
  tensors.sort(
    (a, b) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1],
  );
  let cursor = 0;
  let previous = '';
  for (const t of tensors) {
    const [begin, end] = t.dataOffsets;
    if (begin < cursor)
      fail(
        `tensor '${t.name}' [${begin}, ${end}) overlaps tensor '${previous}' (ends at ${cursor})`,
      );
    if (begin > cursor)
      fail(
        `bytes [${cursor}, ${begin}) before tensor '${t.name}' belong to no tensor; expected a contiguous data section`,
      );
    cursor = end;
    previous = t.name;
  }
  if (cursor !== dataSize)
    fail(
      `tensors cover ${cursor} bytes of a ${dataSize}-byte data section; expected the data section to be indexed entirely`,
    );
  return {
    tensors,
    metadata,
    headerLength: headerBytes.length,
    dataStart: 8 + headerBytes.length,
  };
}

function parseEntry(name: string, entry: unknown, dataSize: number): TensorInfo {
  if (name.length === 0) fail('tensor names must be non-empty strings');
  if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
    fail(`tensor '${name}' must be an object {dtype, shape, data_offsets}`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (!isSafetensorsDtype(dtype))
    fail(
      `tensor '${name}' has dtype ${JSON.stringify(dtype)}; expected one of ${SAFETENSORS_DTYPES.join(', ')}`,
    );
  if (!Array.isArray(shape))
    fail(
      `tensor '${name}' has shape ${JSON.stringify(shape)}; expected an array of non-negative integers`,
    );
  let count = 1;
  for (const d of shape) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0)
      fail(
        `tensor '${name}' has dim ${JSON.stringify(d)} in shape ${JSON.stringify(shape)}; expected non-negative integers`,
      );
    count *= d;
  }
  if (!Number.isSafeInteger(count * DTYPE_BYTES[dtype]))
    fail(`tensor '${name}' shape ${JSON.stringify(shape)} is too large`);
  if (
    !Array.isArray(offsets) ||
    offsets.length !== 2 ||
    !offsets.every((o) => typeof o === 'number' && Number.isSafeInteger(o) && o >= 0)
  )
    fail(
      `tensor '${name}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end] non-negative integers`,
    );
  const [begin, end] = offsets as [number, number];
  if (begin > end)
    fail(`tensor '${name}' has data_offsets [${begin}, ${end}]; expected begin <= end`);
  if (end > dataSize)
    fail(
      `tensor '${name}' data_offsets [${begin}, ${end}] run past the ${dataSize}-byte data section`,
    );
  const bytes = count * DTYPE_BYTES[dtype];
  if (end - begin !== bytes)
    fail(
      `tensor '${name}' spans ${end - begin} bytes; shape ${JSON.stringify(shape)} × ${dtype} (${DTYPE_BYTES[dtype]} bytes) needs ${bytes}`,
    );
  return { name, dtype, shape: shape as number[], dataOffsets: [begin, end] };
}

/** Number of elements of a shape (1 for a scalar). */
export function shapeSize(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}
