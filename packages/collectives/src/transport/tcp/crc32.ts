import { crc32 as zlibCrc32 } from 'node:zlib';
import { loadNativeAddon } from '../../native/addon.js';

/** Continues `crc` (zlib's convention: 0 to start) over `bytes`. */
export type Crc32 = (bytes: Uint8Array, crc: number) => number;

/** Set to `zlib` to keep frame checksums on Node's zlib even where the addon loads. */
export const CRC32_ENV = 'PLEXUS_CRC32';

let chosen: { name: 'pclmul' | 'zlib'; fn: Crc32 } | undefined;

/**
 * The CRC-32 used for frame checksums: the package's native addon
 * (carry-less-multiply folding, native/crc32.h, about 3-6x zlib here) where
 * it is built and loads, else `zlib.crc32`. Both compute the same IEEE
 * CRC-32, so peers with and without the addon interoperate.
 */
export function frameCrc32(): { name: 'pclmul' | 'zlib'; fn: Crc32 } {
  if (chosen !== undefined) return chosen;
  const native = process.env[CRC32_ENV] === 'zlib' ? undefined : loadNativeAddon().native;
  if (native !== undefined) {
    chosen = { name: 'pclmul', fn: (bytes, c) => native.crc32(c, bytes) };
  } else {
    chosen = { name: 'zlib', fn: (bytes, c) => zlibCrc32(bytes, c) };
  }
  return chosen;
}
