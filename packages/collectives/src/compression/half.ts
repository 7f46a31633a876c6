const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/**
 * IEEE 754 binary16 bits of `x` (rounded to float32 first), round to
 * nearest even; overflow goes to infinity, NaN stays NaN, and values below
 * half the smallest subnormal (2^-25) flush to signed zero.
 */
export function toHalfBits(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = (u >>> 23) & 0xff;
  const mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 | (mant >>> 13) : 0);
  const e = exp - 112; // rebias 127 -> 15
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rem = m & ((1 << shift) - 1);
    let k = m >>> shift;
    if (rem > half || (rem === half && (k & 1) === 1)) k++;
    return sign | k;
  }
  let k = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, up to infinity (0x7c00).
  if (rem > 0x1000 || (rem === 0x1000 && (k & 1) === 1)) k++;
  return sign | k;
}

let halfTable: Float32Array | undefined;

/** The value of every binary16 bit pattern, built once (256 KiB). */
export function halfToFloatTable(): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) {
      const sign = h & 0x8000 ? -1 : 1;
      const exp = (h >>> 10) & 0x1f;
      const mant = h & 0x3ff;
      let v: number;
      if (exp === 0) v = mant * 2 ** -24;
      else if (exp === 0x1f) v = mant === 0 ? Number.POSITIVE_INFINITY : Number.NaN;
      else v = (1 + mant / 1024) * 2 ** (exp - 15);
      halfTable[h] = sign * v;
    }
  }
  return halfTable;
}

/** bfloat16 bits of `x` (rounded to float32 first), round to nearest even; NaN stays NaN. */
export function toBfloat16Bits(x: number): number {
  f32[0] = x;
  const u = u32[0]!;
  if ((u & 0x7f800000) === 0x7f800000 && (u & 0x7fffff) !== 0) return (u >>> 16) | 0x40;
  return ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
}

/** The float value of bfloat16 bits. */
export function bfloat16ToFloat(bits: number): number {
  u32[0] = bits << 16;
  return f32[0]!;
}
