import { describe, expect, it } from 'vitest';
import { bf16Codec, fp16Codec, int8BlockCodec } from '../../src/compression/codecs.js';
import {
  bfloat16ToFloat,
  halfToFloatTable,
  toBfloat16Bits,
  toHalfBits,
} from '../../src/compression/half.js';
import { rng } from '../algorithms/helpers.js';

describe('binary16 and bfloat16 conversion', () => {
  it('encodes known values (IEEE 754 binary16 table)', () => {
    expect(toHalfBits(1)).toBe(0x3c00);
    expect(toHalfBits(-2)).toBe(0xc000);
    expect(toHalfBits(65504)).toBe(0x7bff);
    expect(toHalfBits(65520)).toBe(0x7c00); // rounds to infinity
    expect(toHalfBits(2 ** -24)).toBe(0x0001); // smallest subnormal
    expect(toHalfBits(2 ** -14)).toBe(0x0400); // smallest normal
    expect(toHalfBits(2 ** -26)).toBe(0x0000);
    expect(toHalfBits(-0)).toBe(0x8000);
    expect(toHalfBits(1 + 2 ** -11)).toBe(0x3c00); // tie to even
    expect(toHalfBits(1 + 3 * 2 ** -11)).toBe(0x3c02); // tie to even (up)
    expect(toHalfBits(Number.NaN) & 0x7c00).toBe(0x7c00);
  });

  it('decode then encode is the identity on every non-NaN binary16 pattern', () => {
    const table = halfToFloatTable();
    for (let h = 0; h < 65536; h++) {
      const v = table[h]!;
      if (Number.isNaN(v)) continue;
      expect(toHalfBits(v)).toBe(h);
    }
  });

  it('rounds to the nearest representable value (checked by search around each input)', () => {
    const table = halfToFloatTable();
    const rand = rng(4);
    for (let t = 0; t < 2000; t++) {
      const x = (rand() - 0.5) * 2 ** (Math.floor(rand() * 40) - 24);
      const h = toHalfBits(x);
      const err = Math.abs(table[h]! - Math.fround(x));
      // No neighbour pattern may be strictly closer.
      for (const nb of [h - 1, h + 1]) {
        if (nb < 0 || nb > 0xffff || ((nb ^ h) & 0x8000) !== 0) continue;
        const v = table[nb]!;
        if (Number.isFinite(v)) expect(Math.abs(v - Math.fround(x))).toBeGreaterThanOrEqual(err);
      }
    }
  });

  it('bfloat16 keeps the top 16 bits with round to nearest even', () => {
    expect(toBfloat16Bits(1)).toBe(0x3f80);
    expect(bfloat16ToFloat(0x3f80)).toBe(1);
    expect(toBfloat16Bits(1 + 2 ** -8)).toBe(0x3f80); // tie to even
    expect(toBfloat16Bits(1 + 3 * 2 ** -8)).toBe(0x3f82);
    expect(Number.isNaN(bfloat16ToFloat(toBfloat16Bits(Number.NaN)))).toBe(true);
    expect(bfloat16ToFloat(toBfloat16Bits(3.0e38))).toBeCloseTo(3.0e38, -36);
  });
});

describe('codec single-step error bounds', () => {
  const data = new Float32Array(10_001);
  const rand = rng(11);
  for (let i = 0; i < data.length; i++) data[i] = (rand() - 0.5) * 10 ** (rand() * 4 - 2);

  it('fp16 relative error <= 2^-11 in the normal range', () => {
    const enc = new Uint8Array(fp16Codec.encodedBytes(data.length));
    fp16Codec.encode(data, enc);
    const out = new Float32Array(data.length);
    fp16Codec.decode(enc, out);
    for (let i = 0; i < data.length; i++) {
      if (Math.abs(data[i]!) < 2 ** -14) continue;
      expect(Math.abs(out[i]! - data[i]!)).toBeLessThanOrEqual(Math.abs(data[i]!) * 2 ** -11);
    }
  });

  it('bf16 relative error <= 2^-8', () => {
    const enc = new Uint8Array(bf16Codec.encodedBytes(data.length));
    bf16Codec.encode(data, enc);
    const out = new Float32Array(data.length);
    bf16Codec.decode(enc, out);
    for (let i = 0; i < data.length; i++) {
      expect(Math.abs(out[i]! - data[i]!)).toBeLessThanOrEqual(Math.abs(data[i]!) * 2 ** -8);
    }
  });

  it('int8 block error <= max|block| / 254 per element; rejects non-finite input', () => {
    const codec = int8BlockCodec(64);
    const enc = new Uint8Array(codec.encodedBytes(data.length));
    expect(enc.byteLength).toBe(4 * Math.ceil(data.length / 64) + data.length);
    codec.encode(data, enc);
    const out = new Float32Array(data.length);
    codec.decode(enc, out);
    for (let b = 0; b < data.length; b += 64) {
      let max = 0;
      for (let i = b; i < Math.min(data.length, b + 64); i++)
        max = Math.max(max, Math.abs(data[i]!));
      for (let i = b; i < Math.min(data.length, b + 64); i++) {
        expect(Math.abs(out[i]! - data[i]!)).toBeLessThanOrEqual((max / 254) * (1 + 1e-6));
      }
    }
    expect(() => codec.encode(new Float32Array([1, Number.POSITIVE_INFINITY]), enc)).toThrow(
      /^@plexus\/collectives\/compression\/codecs: int8 compression needs finite values/,
    );
    expect(() => int8BlockCodec(0)).toThrow(/positive integer/);
  });
});
