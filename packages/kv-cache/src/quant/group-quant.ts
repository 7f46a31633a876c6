import { PlexusKvCacheError } from '../errors.js';

/** Bits per quantised KV value. */
export type KvBits = 8 | 4;

/** Largest code magnitude: symmetric codes in `[-qmax, qmax]`. */
export function qmaxOf(bits: KvBits): number {
  return bits === 8 ? 127 : 7;
}

/**
 * Throw unless `groupSize` divides `headDim` (and `headDim` is even for int4,
 * which packs two codes per byte).
 */
export function checkGrouping(
  bits: KvBits,
  headDim: number,
  groupSize: number,
  module: string,
): void {
  if (bits !== 8 && bits !== 4)
    throw new PlexusKvCacheError(module, `bits is ${bits}; expected 8 or 4`);
  if (!Number.isInteger(groupSize) || groupSize < 1 || headDim % groupSize !== 0)
    throw new PlexusKvCacheError(
      module,
      `groupSize is ${groupSize}; expected a divisor of headDim (${headDim})`,
    );
  if (bits === 4 && groupSize % 2 !== 0)
    throw new PlexusKvCacheError(
      module,
      `int4 packs two codes per byte; expected an even groupSize, got ${groupSize}`,
    );
}

/**
 * Quantise `src[srcOff .. srcOff + n)` (n a multiple of `groupSize`) with one
 * symmetric scale per group: `scale = max|x| / qmax`, `code = round(x / scale)`.
 * Writes int8 codes to `codes[codeOff..]` (int8) or two 4-bit codes (offset by
 * 8) per byte to `codes[codeOff / 2 ..]` (int4), and scales to `scales[scaleOff..]`.
 * The error of every value is at most `scale / 2 = max|x| / (2 qmax)` of its
 * group (plus 2^-150 absolute for subnormal groups, where float32 steps are 2^-149).
 */
export function quantizeRow(
  bits: KvBits,
  groupSize: number,
  src: ArrayLike<number>,
  srcOff: number,
  n: number,
  codes: Int8Array | Uint8Array,
  codeOff: number,
  scales: Float32Array,
  scaleOff: number,
): void {
  const qmax = qmaxOf(bits);
  for (let g = 0; g < n / groupSize; g++) {
    const base = srcOff + g * groupSize;
    let maxAbs = 0;
    for (let i = 0; i < groupSize; i++) maxAbs = Math.max(maxAbs, Math.abs(src[base + i]!));
    // Round the float32 scale up, never down: a scale rounded down would clip
    // the largest value (badly for subnormal groups, where steps are 2^-149).
    let scale = Math.fround(maxAbs / qmax);
    if (scale * qmax < maxAbs) scale = nextFloat32Up(scale);
    scales[scaleOff + g] = scale;
    const inv = scale > 0 ? 1 / scale : 0;
    for (let i = 0; i < groupSize; i++) {
      const q = Math.max(-qmax, Math.min(qmax, Math.round(src[base + i]! * inv)));
      const at = codeOff + g * groupSize + i;
      if (bits === 8) codes[at] = q;
      else {
        const byte = at >> 1;
        const nib = q + 8;
        codes[byte] = at & 1 ? (codes[byte]! & 0x0f) | (nib << 4) : (codes[byte]! & 0xf0) | nib;
      }
    }
  }
}

const bits32 = new Float32Array(1);
const word32 = new Uint32Array(bits32.buffer);

/** The next float32 above a non-negative float32 (internal). */
export function nextFloat32Up(x: number): number {
  bits32[0] = x;
  word32[0]! += 1;
  return bits32[0]!;
}

/** Inverse of {@link quantizeRow}: `n` floats into `dst[dstOff..]`. */
export function dequantizeRow(
  bits: KvBits,
  groupSize: number,
  codes: Int8Array | Uint8Array,
  codeOff: number,
  scales: Float32Array,
  scaleOff: number,
  n: number,
  dst: Float32Array,
  dstOff: number,
): void {
  for (let g = 0; g < n / groupSize; g++) {
    const scale = scales[scaleOff + g]!;
    const base = codeOff + g * groupSize;
    const out = dstOff + g * groupSize;
    if (bits === 8) {
      for (let i = 0; i < groupSize; i++) dst[out + i] = codes[base + i]! * scale;
    } else {
      // base is even (groupSize and headDim are even), so pairs share a byte.
      for (let i = 0; i < groupSize; i += 2) {
        const byte = codes[(base + i) >> 1]!;
        dst[out + i] = ((byte & 0x0f) - 8) * scale;
        dst[out + i + 1] = ((byte >> 4) - 8) * scale;
      }
    }
  }
}
