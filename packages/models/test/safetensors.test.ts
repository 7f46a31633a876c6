import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PlexusModelsError } from '../src/errors.js';
import {
  bfloat16ToFloat,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  SafetensorsCheckpoint,
  SafetensorsReader,
  serializeSafetensors,
  writeSafetensorsCheckpoint,
} from '../src/safetensors/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'safetensors');
const expected = JSON.parse(readFileSync(join(FIXTURES, 'dtypes.json'), 'utf8')) as Record<
  string,
  { shape: number[]; values: number[] }
>;
const tmp = mkdtempSync(join(tmpdir(), 'plexus-st-'));
beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A file built by hand: header object, data bytes, optional header-length override. */
function build(header: unknown, data: Uint8Array, lengthOverride?: bigint): Uint8Array {
  const json = new TextEncoder().encode(
    typeof header === 'string' ? header : JSON.stringify(header),
  );
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, lengthOverride ?? BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

function expectRejected(bytes: Uint8Array, pattern: RegExp): void {
  let caught: unknown;
  try {
    SafetensorsReader.fromBuffer(bytes);
  } catch (e) {
    caught = e;
  }
  expect(PlexusModelsError.isInstance(caught)).toBe(true);
  expect((caught as Error).message).toMatch(/^@plexus\/models\/safetensors: /);
  expect((caught as Error).message).toMatch(pattern);
  // The same bytes through the file path reader give the same verdict.
  const path = join(tmp, 'bad.safetensors');
  writeFileSync(path, bytes);
  expect(() => SafetensorsReader.open(path)).toThrow(pattern);
}

describe('safetensors reader on torch-written fixtures', () => {
  for (const mode of ['file', 'buffer'] as const) {
    it(`decodes every dtype (${mode})`, () => {
      const path = join(FIXTURES, 'dtypes.safetensors');
      const r =
        mode === 'file'
          ? SafetensorsReader.open(path)
          : SafetensorsReader.fromBuffer(new Uint8Array(readFileSync(path)));
      expect(r.metadata).toEqual({ format: 'pt', note: 'fixture' });
      expect(new Set(r.names)).toEqual(new Set(Object.keys(expected)));
      for (const [name, want] of Object.entries(expected)) {
        const t = r.read(name);
        expect([...t.shape], name).toEqual(want.shape);
        const got = Array.from(t.data as ArrayLike<number | bigint>, Number);
        expect(got.length, name).toBe(want.values.length);
        // F16/BF16 decode exactly to torch's float values; F64 keeps every bit.
        for (const [i, v] of got.entries()) expect(v, `${name}[${i}]`).toBe(want.values[i]);
      }
      r.close();
    });
  }

  it('reads tensors as tfjs tensors (float32 / int32 / bool)', () => {
    const r = SafetensorsReader.open(join(FIXTURES, 'dtypes.safetensors'));
    const before = tf.memory().numTensors;
    const f = r.readTensor('bf16');
    const i = r.readTensor('i64');
    const b = r.readTensor('bool');
    expect([f.dtype, i.dtype, b.dtype]).toEqual(['float32', 'int32', 'bool']);
    expect(Array.from(i.dataSync())).toEqual(expected.i64!.values);
    tf.dispose([f, i, b]);
    expect(tf.memory().numTensors).toBe(before);
    r.close();
  });
});

describe('safetensors writer', () => {
  it('round-trips every dtype through bytes and pads the header to 8 bytes', () => {
    const r = SafetensorsReader.open(join(FIXTURES, 'dtypes.safetensors'));
    const map = new Map(r.names.map((n) => [n, r.read(n)]));
    r.close();
    const bytes = serializeSafetensors(map, { format: 'pt' });
    const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(headerLen % 8).toBe(0);
    const back = SafetensorsReader.fromBuffer(bytes);
    expect(back.metadata).toEqual({ format: 'pt' });
    for (const [name, t] of map) {
      const u = back.read(name);
      expect(u.dtype).toBe(t.dtype);
      expect(Array.from(u.data as ArrayLike<number>, Number)).toEqual(
        Array.from(t.data as ArrayLike<number>, Number),
      );
    }
    // Byte-identical to the torch-side writer: same layout, same padding.
    const original = new Uint8Array(readFileSync(join(FIXTURES, 'dtypes.safetensors')));
    const again = serializeSafetensors(map, { format: 'pt', note: 'fixture' });
    expect(Buffer.from(again).equals(Buffer.from(original))).toBe(true);
  });

  it('encodes F16 and BF16 with round-to-nearest-even', () => {
    const xs = new Float32Array([
      1,
      1 + 2 ** -11,
      1 + 3 * 2 ** -11,
      65520,
      2 ** -25,
      3 * 2 ** -26,
      -0,
    ]);
    const h = halfToFloat(floatToHalf(xs));
    // 1 + 2^-11 is a tie -> even (1); 1 + 3·2^-11 is a tie -> 1 + 2^-9; 65520 overflows to Infinity;
    // 2^-25 is half the smallest subnormal -> 0 (even); 3·2^-26 rounds up to 2^-24.
    expect(Array.from(h)).toEqual([1, 1, 1 + 2 ** -9, Number.POSITIVE_INFINITY, 0, 2 ** -24, -0]);
    const b = bfloat16ToFloat(
      floatToBfloat16(new Float32Array([1 + 2 ** -8, 1 + 3 * 2 ** -8, Number.NaN])),
    );
    expect(b[0]).toBe(1);
    expect(b[1]).toBe(1 + 2 ** -6);
    expect(Number.isNaN(b[2])).toBe(true);
  });

  it('writes and reopens a sharded checkpoint with an index', () => {
    const dir = mkdtempSync(join(tmp, 'shards-'));
    const tensors = new Map(
      Array.from({ length: 5 }, (_, i) => [
        `layer.${i}.weight`,
        { shape: [4, 8], data: Float32Array.from({ length: 32 }, (_, j) => i * 100 + j) },
      ]),
    );
    const files = writeSafetensorsCheckpoint(dir, tensors, { maxShardBytes: 300 });
    expect(files).toContain('model.safetensors.index.json');
    expect(files.filter((f) => f.endsWith('.safetensors')).length).toBe(3);
    const ckpt = SafetensorsCheckpoint.open(dir);
    expect(ckpt.names.sort()).toEqual([...tensors.keys()].sort());
    expect(Array.from(ckpt.read('layer.3.weight').data as Float32Array)).toEqual(
      Array.from(tensors.get('layer.3.weight')!.data),
    );
    ckpt.close();
  });

  it('rejects index files that reach outside the directory or name missing tensors', () => {
    const dir = mkdtempSync(join(tmp, 'index-'));
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: '../evil.safetensors' } }),
    );
    expect(() => SafetensorsCheckpoint.open(dir)).toThrow(/expected a \*\.safetensors file name/);
    writeFileSync(
      join(dir, 'model.safetensors'),
      serializeSafetensors({ b: { shape: [1], data: [1] } }),
    );
    writeFileSync(
      join(dir, 'model.safetensors.index.json'),
      JSON.stringify({ weight_map: { a: 'model.safetensors' } }),
    );
    expect(() => SafetensorsCheckpoint.open(dir)).toThrow(/has no such tensor/);
  });
});

describe('safetensors rejects lying headers', () => {
  const f32 = (n: number) => new Uint8Array(n * 4);
  const entry = (begin: number, end: number, shape = [2], dtype = 'F32') => ({
    dtype,
    shape,
    data_offsets: [begin, end],
  });

  it('accepts a well-formed file built by hand', () => {
    const r = SafetensorsReader.fromBuffer(build({ a: entry(0, 8), b: entry(8, 16) }, f32(4)));
    expect(r.names).toEqual(['a', 'b']);
  });
  it('file shorter than the 8-byte length', () => {
    expectRejected(new Uint8Array(5), /at least 8/);
  });
  it('header length past the end of the file', () => {
    expectRejected(build({ a: entry(0, 8) }, f32(2), 10_000n), /runs past the end of the file/);
    expectRejected(build({ a: entry(0, 8) }, f32(2), 2n ** 63n), /exceeds/);
  });
  it('non-JSON and non-object headers', () => {
    expectRejected(build('{"a": ', f32(0)), /not valid JSON/);
    expectRejected(build('[1, 2]', f32(0)), /expected a JSON object/);
    expectRejected(build('{"a": 3}', f32(0)), /must be an object/);
    const bad = build('{"a":1}', f32(0));
    bad[10] = 0xff;
    expectRejected(bad, /UTF-8/);
  });
  it('unknown dtype', () => {
    expectRejected(
      build({ a: entry(0, 8, [2], 'F8_E4M3') }, f32(2)),
      /dtype "F8_E4M3"; expected one of F64/,
    );
  });
  it('negative, fractional or non-numeric dims', () => {
    expectRejected(build({ a: entry(0, 8, [-2]) }, f32(2)), /dim -2/);
    expectRejected(build({ a: entry(0, 8, [1.5]) }, f32(2)), /dim 1\.5/);
    expectRejected(build({ a: entry(0, 8, ['2'] as never) }, f32(2)), /dim "2"/);
  });
  it('byte size not matching shape × dtype', () => {
    expectRejected(
      build({ a: entry(0, 8, [3]) }, f32(2)),
      /spans 8 bytes; shape \[3\] × F32 \(4 bytes\) needs 12/,
    );
  });
  it('offsets out of range, reversed, or malformed', () => {
    expectRejected(build({ a: entry(0, 16, [4]) }, f32(2)), /run past the 8-byte data section/);
    expectRejected(build({ a: entry(8, 0) }, f32(2)), /begin <= end/);
    expectRejected(
      build({ a: { dtype: 'F32', shape: [2], data_offsets: [0] } }, f32(2)),
      /data_offsets/,
    );
    expectRejected(build({ a: entry(-8, 0, [0]) }, f32(2)), /data_offsets/);
  });
  it('overlapping tensors', () => {
    expectRejected(build({ a: entry(0, 8), b: entry(4, 12) }, f32(3)), /overlaps tensor 'a'/);
  });
  it('holes and trailing bytes', () => {
    expectRejected(build({ a: entry(0, 8), b: entry(12, 20) }, f32(5)), /belong to no tensor/);
    expectRejected(build({ a: entry(0, 8) }, f32(3)), /cover 8 bytes of a 12-byte data section/);
  });
  it('bad metadata and BOOL bytes other than 0/1', () => {
    expectRejected(
      build({ __metadata__: { a: 1 }, x: entry(0, 8) }, f32(2)),
      /__metadata__\.a is number/,
    );
    const r = SafetensorsReader.fromBuffer(
      build({ b: entry(0, 2, [2], 'BOOL') }, new Uint8Array([1, 7])),
    );
    expect(() => r.read('b')).toThrow(/BOOL element 1 has byte 7/);
  });
  it('unknown tensor names', () => {
    const r = SafetensorsReader.fromBuffer(build({ a: entry(0, 8) }, f32(2)));
    expect(() => r.read('nope')).toThrow(/no tensor named 'nope'/);
  });
});
