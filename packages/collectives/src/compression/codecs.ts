import { PlexusCollectivesError } from '../errors.js';
import { bfloat16ToFloat, halfToFloatTable, toBfloat16Bits, toHalfBits } from './half.js';

const MODULE = 'compression/codecs';

/** Float buffers compression accepts. */
export type FloatArray = Float32Array | Float64Array;

/** Compression formats of `compressedAllReduce`. */
export type CompressionCodecName = 'fp16' | 'bf16' | 'int8';

/**
 * A lossy codec for a float buffer of known length. `encodedBytes(n)`
 * depends only on `n`, so both sides of a message know its size.
 */
export interface CompressionCodec {
  readonly name: CompressionCodecName;
  /** Size in bytes of `n` encoded elements. */
  encodedBytes(n: number): number;
  /** Encodes `src` into `out` (`encodedBytes(src.length)` bytes). */
  encode(src: FloatArray, out: Uint8Array): void;
  /** Decodes `bytes` into `out`, or adds the decoded values to `out` with `accumulate`. */
  decode(bytes: Uint8Array, out: FloatArray, accumulate?: boolean): void;
}

function u16View(bytes: Uint8Array, n: number): Uint16Array {
  if (bytes.byteOffset % 2 === 0) return new Uint16Array(bytes.buffer, bytes.byteOffset, n);
  return new Uint16Array(bytes.slice(0, 2 * n).buffer);
}

/** IEEE binary16: 2 bytes per element, relative error <= 2^-11 in the normal range (|x| in [2^-14, 65504]). */
export const fp16Codec: CompressionCodec = {
  name: 'fp16',
  encodedBytes: (n) => 2 * n,
  encode(src, out) {
    const h = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) h[i] = toHalfBits(src[i]!);
    out.set(new Uint8Array(h.buffer));
  },
  decode(bytes, out, accumulate = false) {
    const table = halfToFloatTable();
    const h = u16View(bytes, out.length);
    if (accumulate) for (let i = 0; i < out.length; i++) out[i]! += table[h[i]!]!;
    else for (let i = 0; i < out.length; i++) out[i] = table[h[i]!]!;
  },
};

/** bfloat16: 2 bytes per element, float32's range, relative error <= 2^-8. */
export const bf16Codec: CompressionCodec = {
  name: 'bf16',
  encodedBytes: (n) => 2 * n,
  encode(src, out) {
    const h = new Uint16Array(src.length);
    for (let i = 0; i < src.length; i++) h[i] = toBfloat16Bits(src[i]!);
    out.set(new Uint8Array(h.buffer));
  },
  decode(bytes, out, accumulate = false) {
    const h = u16View(bytes, out.length);
    if (accumulate) for (let i = 0; i < out.length; i++) out[i]! += bfloat16ToFloat(h[i]!);
    else for (let i = 0; i < out.length; i++) out[i] = bfloat16ToFloat(h[i]!);
  },
};

/**
 * Int8 with one float32 scale per block of `blockSize` elements: `q =
 * round(x / s)` with `s = max|x| / 127` over the block, so the absolute
 * error is at most `s / 2 = max|x| / 254` per element. Layout: the scales,
 * then the int8 values. Non-finite inputs are rejected (a block scale of
 * infinity would wipe out the block).
 */
export function int8BlockCodec(blockSize = 256): CompressionCodec {
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new PlexusCollectivesError(
      MODULE,
      'invalid-argument',
      `expected blockSize to be a positive integer, got ${String(blockSize)}`,
    );
  }
  const blocks = (n: number) => Math.ceil(n / blockSize);
  return {
    name: 'int8',
    encodedBytes: (n) => 4 * blocks(n) + n,
    encode(src, out) {
      const nb = blocks(src.length);
      const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
      const q = new Int8Array(out.buffer, out.byteOffset + 4 * nb, src.length);
      for (let b = 0; b < nb; b++) {
        const s0 = b * blockSize;
        const s1 = Math.min(src.length, s0 + blockSize);
        let max = 0;
        for (let i = s0; i < s1; i++) {
          const a = Math.abs(src[i]!);
          if (!(a <= Number.MAX_VALUE)) {
            throw new PlexusCollectivesError(
              MODULE,
              'invalid-argument',
              `int8 compression needs finite values, got ${src[i]} at index ${i}`,
            );
          }
          if (a > max) max = a;
        }
        view.setFloat32(4 * b, max / 127, true);
        const scale = view.getFloat32(4 * b, true);
        const inv = scale > 0 ? 1 / scale : 0;
        for (let i = s0; i < s1; i++) {
          q[i] = Math.max(-127, Math.min(127, Math.round(src[i]! * inv)));
        }
      }
    },
    decode(bytes, out, accumulate = false) {
      const nb = blocks(out.length);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      const q = new Int8Array(bytes.buffer, bytes.byteOffset + 4 * nb, out.length);
      for (let b = 0; b < nb; b++) {
        const scale = view.getFloat32(4 * b, true);
        const s1 = Math.min(out.length, (b + 1) * blockSize);
        if (accumulate) for (let i = b * blockSize; i < s1; i++) out[i]! += q[i]! * scale;
        else for (let i = b * blockSize; i < s1; i++) out[i] = q[i]! * scale;
      }
    },
  };
}

/** The codec for a name (`int8` with the given block size). */
export function codecFor(name: CompressionCodecName, blockSize?: number): CompressionCodec {
  switch (name) {
    case 'fp16':
      return fp16Codec;
    case 'bf16':
      return bf16Codec;
    case 'int8':
      return int8BlockCodec(blockSize);
    default:
      throw new PlexusCollectivesError(
        MODULE,
        'invalid-argument',
        `expected codec to be 'fp16', 'bf16' or 'int8', got ${String(name)}`,
      );
  }
}
