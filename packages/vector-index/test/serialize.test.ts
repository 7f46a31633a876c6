import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { HnswIndex, VectorIndexError } from '../src/index.js';
import { crc32 } from '../src/serialize/crc32.js';
import { range, row, uniformData } from './helpers.js';

const DIM = 12;
const N = 1500;

function built(): HnswIndex {
  const index = new HnswIndex({ dim: DIM, metric: 'cosine', M: 8, efSearch: 40 });
  index.addBatch(range(N), uniformData(N, DIM, 21));
  for (let l = 0; l < N; l += 7) index.delete(l);
  return index;
}

function expectError(fn: () => unknown, text: RegExp): void {
  try {
    fn();
  } catch (error) {
    expect(VectorIndexError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/^@plexus\/vector-index\/format: /);
    expect((error as Error).message).toMatch(text);
    return;
  }
  throw new Error('expected an error');
}

describe('binary format', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vector-index-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips to identical search results, settings and bytes', async () => {
    const index = built();
    const bytes = index.toBytes();
    const loaded = HnswIndex.fromBytes(bytes, { dim: DIM, metric: 'cosine' });
    expect(loaded.size).toBe(index.size);
    expect(loaded.efSearch).toBe(40);
    expect(loaded.config).toEqual(index.config);
    const queries = uniformData(50, DIM, 22);
    for (let q = 0; q < 50; q++) {
      const query = row(queries, q, DIM);
      expect(loaded.search(query, 10)).toEqual(index.search(query, 10));
    }
    expect(Buffer.from(loaded.toBytes()).equals(Buffer.from(bytes))).toBe(true);
    const path = join(dir, 'index.hnsw');
    await index.save(path);
    const fromFile = await HnswIndex.load(path, { dim: DIM });
    expect(fromFile.search(row(queries, 0, DIM), 5)).toEqual(index.search(row(queries, 0, DIM), 5));
  });

  it('keeps working after load: inserts reuse deleted slots and continue the seed', () => {
    const a = built();
    const b = HnswIndex.fromBytes(a.toBytes());
    const extra = uniformData(100, DIM, 23);
    for (let i = 0; i < 100; i++) {
      a.add(50_000 + i, row(extra, i, DIM));
      b.add(50_000 + i, row(extra, i, DIM));
    }
    expect(b.size).toBe(a.size);
    // Same free-slot order and RNG state: the loaded index evolves identically.
    expect(Buffer.from(b.toBytes()).equals(Buffer.from(a.toBytes()))).toBe(true);
    for (let i = 0; i < 100; i += 10) {
      expect(b.search(row(extra, i, DIM), 1).labels).toEqual([50_000 + i]);
    }
  });

  it('rejects truncated files, other versions, other dimensions and corruption', () => {
    const bytes = built().toBytes();
    expectError(
      () => HnswIndex.fromBytes(bytes.subarray(0, 40)),
      /truncated: expected at least 88 header bytes, got 40/,
    );
    expectError(
      () => HnswIndex.fromBytes(bytes.subarray(0, bytes.length - 10)),
      /truncated: expected \d+ bytes, got \d+/,
    );
    const version = bytes.slice();
    new DataView(version.buffer).setUint32(8, 99, true);
    expectError(
      () => HnswIndex.fromBytes(version),
      /format version 99; this build reads version 1/,
    );
    expectError(
      () => HnswIndex.fromBytes(bytes, { dim: 13 }),
      /dimension 12; expected dimension 13/,
    );
    expectError(
      () => HnswIndex.fromBytes(bytes, { metric: 'l2' }),
      /metric 'cosine'; expected 'l2'/,
    );
    const flipped = bytes.slice();
    flipped[5000] = flipped[5000]! ^ 0xff;
    expectError(() => HnswIndex.fromBytes(flipped), /checksum mismatch/);
    const magic = bytes.slice();
    magic[0] = 0;
    expectError(() => HnswIndex.fromBytes(magic), /expected magic/);
    const longer = new Uint8Array(bytes.length + 3);
    longer.set(bytes);
    expectError(() => HnswIndex.fromBytes(longer), /3 trailing bytes/);
  });

  it('crc32 matches a bitwise reference (and the standard check value)', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (data) => {
        expect(crc32(data)).toBe(referenceCrc(data));
      }),
    );
  });
});

function referenceCrc(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}
