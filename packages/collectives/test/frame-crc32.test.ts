import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { loadNativeAddon } from '../src/native/addon.js';
import { frameCrc32 } from '../src/transport/tcp/crc32.js';

const { native } = loadNativeAddon();

describe('frame CRC-32', () => {
  it.skipIf(native === undefined)(
    'the addon equals zlib on every length, alignment and starting value (folding lanes, 16-byte tail, bytes)',
    () => {
      const data = new Uint8Array(70_000);
      let x = 12345;
      for (let i = 0; i < data.length; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        data[i] = x >>> 24;
      }
      const bad: string[] = [];
      const lengths = [0, 1, 15, 16, 17, 63, 64, 65, 79, 80, 127, 128, 129, 1000, 4096, 65_537];
      for (const n of lengths) {
        for (const offset of [0, 1, 7]) {
          for (const start of [0, 1, 0xffffffff, 0x12345678]) {
            const view = data.subarray(offset, offset + n);
            const want = zlibCrc32(view, start);
            const got = native!.crc32(start, view);
            if (got !== want) bad.push(`n=${n} offset=${offset} start=${start}: ${got} vs ${want}`);
          }
        }
      }
      // Typed arrays of other element types are checksummed over their bytes.
      const f = new Float32Array(data.buffer, 4, 1000);
      const bytes = new Uint8Array(f.buffer, f.byteOffset, f.byteLength);
      if (native!.crc32(0, f) !== zlibCrc32(bytes)) bad.push('Float32Array view');
      expect(bad).toEqual([]);
      expect(frameCrc32().name).toBe('pclmul');
    },
  );

  it('chains like zlib: crc(a ++ b) == crc(b, crc(a))', () => {
    const a = new Uint8Array(300).map((_, i) => i * 7);
    const b = new Uint8Array(100).map((_, i) => i * 13);
    const crc = frameCrc32().fn;
    const whole = new Uint8Array(400);
    whole.set(a);
    whole.set(b, 300);
    expect(crc(b, crc(a, 0))).toBe(zlibCrc32(whole));
  });
});
