import { PlexusModelsError } from '../errors.js';

/** Element types of the safetensors format that this package reads and writes. */
export type SafetensorsDtype =
  | 'F64'
  | 'F32'
  | 'F16'
  | 'BF16'
  | 'I64'
  | 'I32'
  | 'I16'
  | 'I8'
  | 'U8'
  | 'BOOL';

/** Bytes per element of each dtype. */
export const DTYPE_BYTES: Readonly<Record<SafetensorsDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** The dtypes accepted, in the order error messages list them. */
export const SAFETENSORS_DTYPES = Object.keys(DTYPE_BYTES) as readonly SafetensorsDtype[];

/**
 * Host array a tensor decodes to: F16 and BF16 widen to float32 (tfjs has no
 * half type), I64 stays 64-bit, BOOL is one byte per element (0 or 1).
 */
export type TensorArray =
  | Float64Array
  | Float32Array
  | BigInt64Array
  | Int32Array
  | Int16Array
  | Int8Array
  | Uint8Array;

/** Whether `s` names a supported dtype. */
export function isSafetensorsDtype(s: unknown): s is SafetensorsDtype {
  return typeof s === 'string' && Object.hasOwn(DTYPE_BYTES, s);
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Decode little-endian `bytes` of `count` elements of `dtype`. The bytes are
 * copied first: offsets inside a file need not be aligned to the element size.
 */
export function decodeArray(
  dtype: SafetensorsDtype,
  bytes: Uint8Array,
  count: number,
): TensorArray {
  if (!LITTLE_ENDIAN)
    throw new PlexusModelsError('safetensors', 'big-endian hosts are not supported');
  const aligned = bytes.slice().buffer;
  switch (dtype) {
    case 'F64':
      return new Float64Array(aligned, 0, count);
    case 'F32':
      return new Float32Array(aligned, 0, count);
    case 'F16':
      return halfToFloat(new Uint16Array(aligned, 0, count));
    case 'BF16':
      return bfloat16ToFloat(new Uint16Array(aligned, 0, count));
    case 'I64':
      return new BigInt64Array(aligned, 0, count);
    case 'I32':
      return new Int32Array(aligned, 0, count);
    case 'I16':
      return new Int16Array(aligned, 0, count);
    case 'I8':
      return new Int8Array(aligned, 0, count);
    case 'U8':
      return new Uint8Array(aligned, 0, count);
    case 'BOOL': {
      const out = new Uint8Array(aligned, 0, count);
      for (let i = 0; i < count; i++)
        if (out[i]! > 1)
          throw new PlexusModelsError(
            'safetensors',
            `BOOL element ${i} has byte ${out[i]}; expected 0 or 1`,
          );
      return out;
    }
  }
}

/** Little-endian bytes of `data` stored as `dtype` (F16/BF16 round to nearest even). */
export function encodeArray(
  dtype: SafetensorsDtype,
  data: TensorArray | readonly number[],
): Uint8Array {
  if (!LITTLE_ENDIAN)
    throw new PlexusModelsError('safetensors', 'big-endian hosts are not supported');
  const n = data.length;
  let out: ArrayBufferView;
  switch (dtype) {
    case 'F64':
      out = Float64Array.from(data as ArrayLike<number>, Number);
      break;
    case 'F32':
      out = Float32Array.from(data as ArrayLike<number>, Number);
      break;
    case 'F16':
      out = floatToHalf(Float32Array.from(data as ArrayLike<number>, Number));
      break;
    case 'BF16':
      out = floatToBfloat16(Float32Array.from(data as ArrayLike<number>, Number));
      break;
    case 'I64':
      out =
        data instanceof BigInt64Array
          ? data
          : BigInt64Array.from(data as ArrayLike<number>, (v) => BigInt(Math.trunc(Number(v))));
      break;
    case 'I32':
      out = Int32Array.from(data as ArrayLike<number>, Number);
      break;
    case 'I16':
      out = Int16Array.from(data as ArrayLike<number>, Number);
      break;
    case 'I8':
      out = Int8Array.from(data as ArrayLike<number>, Number);
      break;
    case 'U8':
      out = Uint8Array.from(data as ArrayLike<number>, Number);
      break;
    case 'BOOL':
      out = Uint8Array.from(data as ArrayLike<number>, (v) => (Number(v) ? 1 : 0));
      break;
  }
  if (out.byteLength !== n * DTYPE_BYTES[dtype])
    throw new PlexusModelsError('safetensors', `cannot encode ${n} values as ${dtype}`);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE 754 binary16 bit patterns to float32 values. */
export function halfToFloat(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const x = h[i]!;
    const sign = x & 0x8000 ? -1 : 1;
    const exp = (x >> 10) & 0x1f;
    const frac = x & 0x3ff;
    if (exp === 0) out[i] = sign * frac * 2 ** -24;
    else if (exp === 31) out[i] = frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
    else out[i] = sign * (1 + frac / 1024) * 2 ** (exp - 15);
  }
  return out;
}

/** bfloat16 bit patterns (the top half of a float32) to float32 values. */
export function bfloat16ToFloat(h: Uint16Array): Float32Array {
  const bits = new Uint32Array(h.length);
  for (let i = 0; i < h.length; i++) bits[i] = h[i]! << 16;
  return new Float32Array(bits.buffer);
}

/** float32 values to bfloat16 bit patterns, rounding to nearest even (NaN stays NaN). */
export function floatToBfloat16(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    f32[0] = x[i]!;
    const b = u32[0]!;
    if (Number.isNaN(x[i]!)) out[i] = (b >>> 16) | 0x40;
    else out[i] = (b + 0x7fff + ((b >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** float32 values to IEEE 754 binary16 bit patterns, rounding to nearest even. */
export function floatToHalf(x: Float32Array): Uint16Array {
  const out = new Uint16Array(x.length);
  for (let i = 0; i < x.length; i++) {
    f32[0] = x[i]!;
    const b = u32[0]!;
    const sign = (b >>> 16) & 0x8000;
    const exp = (b >>> 23) & 0xff;
    let mant = b & 0x7fffff;
    if (exp === 0xff) {
      out[i] = sign | 0x7c00 | (mant ? 0x200 : 0);
      continue;
    }
    const e = exp - 127 + 15;
    if (e >= 31) {
      out[i] = sign | 0x7c00;
      continue;
    }
    if (e <= 0) {
      // Subnormal half (or zero): shift the implicit-one mantissa into place.
      if (e < -10) {
        out[i] = sign;
        continue;
      }
      mant |= 0x800000;
      const shift = 14 - e;
      const half = 1 << (shift - 1);
      const rest = mant & ((1 << shift) - 1);
      let m = mant >>> shift;
      if (rest > half || (rest === half && m & 1)) m++;
      out[i] = sign | m;
      continue;
    }
    let h = (e << 10) | (mant >>> 13);
    const rest = mant & 0x1fff;
    if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
    out[i] = sign | h;
  }
  return out;
}
