// Shared allocations (ProcessGroup.allocateShared): the zero-copy all-reduce
// reads the peers' buffers in place when every rank's buffer is at the same
// offset of one, and falls back to copying otherwise. Results are checked
// bit for bit against the sequential plain-JS reference; groups of several
// ranks live in this one process (real processes in the kill test).
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { launchRanks } from '../bench/launch-ranks.js';
import { type ShmBufferPlacement, shmAllReduce } from '../src/algorithms/shm-all-reduce.js';
import {
  type ElementArray,
  type ElementArrayType,
  PlexusCollectivesError,
  type ProcessGroup,
  type ReduceOp,
  type ShmTransport,
} from '../src/index.js';
import { loadNativeAddon } from '../src/native/addon.js';
import { zeroCopyChannelOf } from '../src/transport/shm/shm-transport.js';
import { cleanedUpAfterEach } from './fixtures/cleanup.js';
import { expectSurvivorsRejectAfterKill } from './fixtures/kill-mid-all-reduce.js';
import { localGroups } from './fixtures/local-groups.js';
import { rawBytes, reduceInRankOrder } from './fixtures/reference.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const { children, groups } = cleanedUpAfterEach();

execFileSync(process.execPath, [join(pkg, 'scripts/build-native.mjs'), '--if-stale', '--quiet']);
const { native } = loadNativeAddon();
const noAddon = native === undefined;

async function shmGroups(worldSize: number, slotBytes = 4096): Promise<ProcessGroup[]> {
  const gs = await localGroups(worldSize, { transport: 'shm', shm: { slotBytes } });
  groups.push(...gs);
  for (const g of gs) {
    const t = g.transport as ShmTransport;
    expect(t.zeroCopy, t.zeroCopyReason).toBe(true);
  }
  return gs;
}

const TYPES: ElementArrayType<ElementArray>[] = [
  Float32Array,
  Float64Array,
  Int32Array,
  BigInt64Array,
  Uint8Array,
];
const OPS: ReduceOp[] = ['sum', 'prod', 'min', 'max', 'avg'];

/** Deterministic values of `buf`'s type for `rank` (negatives, wrap-around, NaN for min/max). */
function fill(buf: ElementArray, op: ReduceOp, rank: number, seed: number): void {
  let s = (seed * 7919 + rank * 104729 + buf.length) >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  for (let i = 0; i < buf.length; i++) {
    const u = next();
    if (buf instanceof BigInt64Array) {
      buf[i] = BigInt.asIntN(64, BigInt(Math.floor(u * 2 ** 32)) << 31n) - 12345n;
    } else if (buf instanceof Float32Array || buf instanceof Float64Array) {
      buf[i] =
        (op === 'min' || op === 'max') && u < 0.03
          ? Number.NaN
          : op === 'prod'
            ? 0.5 + next()
            : (next() - 0.5) * 1000;
    } else if (buf instanceof Int32Array) {
      buf[i] = Math.floor((u - 0.5) * 2 ** 32);
    } else {
      buf[i] = Math.floor(u * 256);
    }
  }
}

/** The group's zero-copy all-reduce, called directly to see which path it took. */
async function allReduceSeeing(
  gs: ProcessGroup[],
  bufs: ElementArray[],
  op: ReduceOp,
): Promise<ShmBufferPlacement[]> {
  const seen: ShmBufferPlacement[] = [];
  await Promise.all(
    gs.map((g, r) =>
      shmAllReduce(zeroCopyChannelOf(g.transport)!, bufs[r]!, op, {
        timeoutMs: 10_000,
        onPlacement: (p) => seen.push(p),
      }),
    ),
  );
  return seen;
}

/** The group's all-reduce (sum) of `bufs`, checked bit for bit against the sequential reference. */
async function expectSumMatchesReference(gs: ProcessGroup[], bufs: ElementArray[]): Promise<void> {
  const want = reduceInRankOrder(
    bufs.map((b) => b.slice()),
    'sum',
  );
  await Promise.all(gs.map((g, r) => g.allReduce(bufs[r]!, 'sum')));
  for (const b of bufs) expect(rawBytes(b).equals(rawBytes(want))).toBe(true);
}

function shmFiles(id: string): string[] {
  return readdirSync('/dev/shm').filter((f) => f.startsWith('plexus-shm-') && f.includes(id));
}

describe('shared allocations (allocateShared)', () => {
  for (const worldSize of [2, 3, 4]) {
    it.skipIf(noAddon)(
      `world size ${worldSize}: every dtype and op in place, lengths 0/1/odd/multi-piece, bit-identical to the reference`,
      async () => {
        // 4 KiB halves: 2003 elements take several pieces at every element size.
        const gs = await shmGroups(worldSize);
        let seed = worldSize * 100;
        for (const length of [0, 1, 7, 2003]) {
          for (const type of TYPES) {
            const bufs = await Promise.all(gs.map((g) => g.allocateShared(type, length)));
            for (const op of OPS) {
              seed++;
              for (let r = 0; r < bufs.length; r++) fill(bufs[r]!, op, r, seed);
              const want = reduceInRankOrder(
                bufs.map((b) => b.slice()),
                op,
              );
              const where = `${type.name}/${op}/len ${length} at ${worldSize} ranks`;
              expect(await allReduceSeeing(gs, bufs, op), where).toEqual(
                new Array(worldSize).fill('symmetric'),
              );
              for (const b of bufs) expect(rawBytes(b).equals(rawBytes(want)), where).toBe(true);
            }
            for (let r = 0; r < gs.length; r++) expect(gs[r]!.releaseShared(bufs[r]!)).toBe(true);
          }
        }
      },
      30_000,
    );
  }

  it.skipIf(noAddon)(
    'the group allReduce takes the in-place path too, at the default slot size, for many pieces',
    async () => {
      const gs = await shmGroups(3, 4 << 20);
      const n = (9 << 20) / 4 + 5;
      const bufs = await Promise.all(gs.map((g) => g.allocateShared(Float32Array, n)));
      bufs.forEach((b, r) => {
        for (let i = 0; i < n; i++) b[i] = ((i * 7 + r) % 23) - 11;
      });
      await expectSumMatchesReference(gs, bufs);
    },
    30_000,
  );

  it.skipIf(noAddon)(
    'from 32 MiB (copy out with non-temporal stores), shared and ordinary arrays, bit-identical to the reference',
    async () => {
      const gs = await shmGroups(3, 4 << 20);
      const n = (32 << 20) / 4 + 3;
      const shared = await Promise.all(gs.map((g) => g.allocateShared(Float32Array, n)));
      for (const bufs of [shared, gs.map(() => new Float32Array(n))]) {
        for (let r = 0; r < bufs.length; r++) fill(bufs[r]!, 'sum', r, 77);
        await expectSumMatchesReference(gs, bufs);
      }
    },
    30_000,
  );

  it.skipIf(noAddon)(
    'a rank that overwrites its buffer the moment its call returns does not change what the peers get',
    async () => {
      const gs = await shmGroups(4);
      const bufs = await Promise.all(gs.map((g) => g.allocateShared(Float32Array, 3001)));
      for (let round = 0; round < 5; round++) {
        for (let r = 0; r < bufs.length; r++) fill(bufs[r]!, 'sum', r, round);
        const want = reduceInRankOrder(
          bufs.map((b) => b.slice()),
          'sum',
        );
        const got = await Promise.all(
          gs.map((g, r) =>
            g.allReduce(bufs[r]!, 'sum').then((b) => {
              const copy = b.slice();
              b.fill(Number.NaN);
              return copy;
            }),
          ),
        );
        for (const b of got)
          expect(rawBytes(b).equals(rawBytes(want)), `round ${round}`).toBe(true);
      }
    },
  );

  it.skipIf(noAddon)(
    'a subarray at the same offset everywhere is symmetric; other offsets or plain arrays on some ranks still give the right result',
    async () => {
      // 3 ranks, 4 KiB halves: 504 float64 per piece, so 2501 elements take 5
      // pieces and 4501 take 9: odd counts, which flip the halves' parity.
      const gs = await shmGroups(3);
      const whole = await Promise.all(gs.map((g) => g.allocateShared(Float64Array, 4501)));
      const run = async (bufs: Float64Array[], seed: number) => {
        for (let r = 0; r < bufs.length; r++) fill(bufs[r]!, 'sum', r, seed);
        const want = reduceInRankOrder(
          bufs.map((b) => b.slice()),
          'sum',
        );
        const seen = await allReduceSeeing(gs, bufs, 'sum');
        for (const b of bufs) expect(rawBytes(b).equals(rawBytes(want))).toBe(true);
        return seen;
      };
      expect(
        await run(
          whole.map((w) => w.subarray(1001, 3502)),
          1,
        ),
      ).toEqual(['symmetric', 'symmetric', 'symmetric']);
      // Same length, different offsets: the peers' buffers are not where ours is.
      expect(
        await run(
          whole.map((w, r) => w.subarray(r, r + 2501)),
          2,
        ),
      ).toEqual(['mixed', 'mixed', 'mixed']);
      const plainOnRank1 = [
        whole[0]!.subarray(0, 2501),
        new Float64Array(2501),
        whole[2]!.subarray(0, 2501),
      ];
      expect(await run(plainOnRank1, 3)).toEqual(['mixed', 'mixed', 'mixed']);
      expect(
        await run(
          [0, 1, 2].map(() => new Float64Array(2501)),
          4,
        ),
      ).toEqual(['plain', 'plain', 'plain']);
      // And the in-place path still works after the copying ones.
      expect(await run(whole, 5)).toEqual(['symmetric', 'symmetric', 'symmetric']);
    },
  );

  it.skipIf(noAddon)(
    'release detaches the array in this process only; the files are gone as soon as the allocation returns',
    async () => {
      const gs = await shmGroups(2);
      const id = (gs[0]!.transport as ShmTransport).id;
      const before = shmFiles(id).length;
      const a = await Promise.all(gs.map((g) => g.allocateShared(Int32Array, 1000)));
      expect(a.map((x) => x.length)).toEqual([1000, 1000]);
      expect(Array.from(a[0]!.subarray(0, 4))).toEqual([0, 0, 0, 0]);
      expect(shmFiles(id).length).toBe(before);
      // Rank 0 writes through its own array, rank 1 reads it through its mapping of rank 0's.
      a[0]!.fill(7);
      a[1]!.fill(1);
      await Promise.all(gs.map((g, r) => g.allReduce(a[r]!, 'sum')));
      expect(a[1]![999]).toBe(8);
      expect(gs[0]!.releaseShared(a[0]!)).toBe(true);
      expect(a[0]!.length).toBe(0);
      expect(gs[0]!.releaseShared(a[0]!)).toBe(false);
      expect(gs[0]!.releaseShared(new Int32Array(4))).toBe(false);
      // Rank 1's view of its own allocation is untouched by rank 0's release.
      expect(a[1]![0]).toBe(8);
      const next = await Promise.all(gs.map((g) => g.allocateShared(Uint8Array, 10)));
      next[0]!.fill(200);
      next[1]!.fill(100);
      await Promise.all(gs.map((g, r) => g.allReduce(next[r]!, 'sum')));
      expect(Array.from(next[1]!.subarray(0, 2))).toEqual([44, 44]);
      const destroyed = groups.splice(0).reverse();
      for (const g of destroyed) await g.destroy();
      expect(next[0]!.length).toBe(0);
      expect(shmFiles(id)).toEqual([]);
      await expect(destroyed[0]!.allocateShared(Uint8Array, 1)).rejects.toThrow(
        /allocateShared was called after destroy\(\)/,
      );
    },
  );

  it.skipIf(noAddon)(
    'ranks that ask for different lengths or types reject with mismatch on every rank',
    async () => {
      const gs = await shmGroups(3);
      const results = await Promise.allSettled([
        gs[0]!.allocateShared(Float32Array, 100),
        gs[1]!.allocateShared(Float32Array, 101),
        gs[2]!.allocateShared(Float32Array, 100),
      ]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const e = (r as PromiseRejectedResult).reason;
        expect(PlexusCollectivesError.isInstance(e)).toBe(true);
        expect(e.code).toBe('mismatch');
        expect(e.message).toMatch(/same type and length, in the same order/);
      }
      const types = await Promise.allSettled(
        gs.map((g, r) =>
          g.allocateShared(
            (r === 2 ? Int32Array : Float32Array) as ElementArrayType<ElementArray>,
            100,
          ),
        ),
      );
      for (const r of types) expect((r as PromiseRejectedResult).reason.code).toBe('mismatch');
      // Nothing is left half made: the next allocation works.
      const ok = await Promise.all(gs.map((g) => g.allocateShared(Float32Array, 3)));
      expect(ok.map((x) => x.length)).toEqual([3, 3, 3]);
      expect(shmFiles((gs[0]!.transport as ShmTransport).id)).toEqual([]);
    },
  );

  it.skipIf(noAddon)(
    'overlapping calls are made one after another, in call order on every rank',
    async () => {
      const gs = await shmGroups(3);
      const made = await Promise.all(
        gs.map((g) =>
          Promise.all([g.allocateShared(Float32Array, 10), g.allocateShared(Int32Array, 20)]),
        ),
      );
      for (const [f, i] of made) {
        expect(f).toBeInstanceOf(Float32Array);
        expect(f!.length).toBe(10);
        expect(i).toBeInstanceOf(Int32Array);
        expect(i!.length).toBe(20);
      }
      for (let r = 0; r < 3; r++) made[r]![1]!.fill(r + 1);
      const seen = await allReduceSeeing(
        gs,
        made.map((m) => m[1]!),
        'sum',
      );
      expect(seen).toEqual(['symmetric', 'symmetric', 'symmetric']);
      for (const [, i] of made) expect(Array.from(i!)).toEqual(new Array(20).fill(6));
    },
  );

  it.skipIf(noAddon)(
    'a rank that cannot create its segment, or rejects its arguments, fails every rank at once, and no file is left',
    async () => {
      const gs = await shmGroups(3);
      const t = gs[0]!.transport as ShmTransport;
      // Rank 1's file for the first allocation already exists: its exclusive create fails.
      const blocker = join(t.dir, `plexus-shm-${t.id}-1-s0`);
      writeFileSync(blocker, '');
      const results = await Promise.allSettled(gs.map((g) => g.allocateShared(Float32Array, 100)));
      const reasons = results.map((r) => (r as PromiseRejectedResult).reason);
      expect(reasons.map((e) => e?.code)).toEqual(['broken', 'broken', 'broken']);
      expect(reasons[1].message).toMatch(
        /rank 1 could not create its shared segment: plexus_shm: open .*-1-s0: File exists/,
      );
      expect(reasons[0].message).toMatch(
        /rank 1 could not create its shared segment \(its own error says why/,
      );
      expect(shmFiles(t.id)).toEqual([]);

      const started = performance.now();
      const bad = await Promise.allSettled(
        gs.map((g, r) => g.allocateShared(Float32Array, r === 2 ? -1 : 100)),
      );
      expect(performance.now() - started).toBeLessThan(5_000);
      const why = bad.map((r) => (r as PromiseRejectedResult).reason);
      expect(why[2].code).toBe('invalid-argument');
      for (const e of [why[0], why[1]]) {
        expect(e.code).toBe('mismatch');
        expect(e.message).toMatch(/rank 2 called allocateShared with arguments it rejected/);
      }
      expect(shmFiles(t.id)).toEqual([]);
      // The ranks still agree on the numbering: the next allocation works.
      const ok = await Promise.all(gs.map((g) => g.allocateShared(Uint8Array, 5)));
      expect(ok.map((x) => x.length)).toEqual([5, 5, 5]);
    },
  );

  it('bad arguments are rejected with what was wrong and what is accepted; over TCP it is an ordinary array', async () => {
    const gs = await localGroups(2, { transport: 'tcp' });
    groups.push(...gs);
    const g = gs[0]!;
    await expect(g.allocateShared(Array as never, 4)).rejects.toThrow(
      /expected type to be Float32Array, Float64Array, Int32Array, BigInt64Array or Uint8Array, got Array/,
    );
    await expect(g.allocateShared(Uint16Array as never, 4)).rejects.toThrow(/got Uint16Array/);
    await expect(g.allocateShared(Float32Array, -1)).rejects.toThrow(
      /expected length to be an integer from 0 to .* \(1 TiB of Float32Array\), got -1/,
    );
    await expect(g.allocateShared(Float32Array, 1.5)).rejects.toThrow(/got 1.5/);
    const a = await Promise.all(gs.map((x) => x.allocateShared(Float64Array, 6)));
    expect(a[0]).toBeInstanceOf(Float64Array);
    expect(a[0]!.length).toBe(6);
    a[0]!.fill(1);
    a[1]!.fill(2);
    await Promise.all(gs.map((x, r) => x.allReduce(a[r]!, 'sum')));
    expect(Array.from(a[1]!)).toEqual([3, 3, 3, 3, 3, 3]);
    expect(g.releaseShared(a[0]!)).toBe(false);
    expect(a[0]!.length).toBe(6);
  });

  it.skipIf(noAddon)(
    'a peer that exits in the middle of an allocation: the others reject with broken at once, no file is left',
    async () => {
      const before = new Set(readdirSync('/dev/shm'));
      const results = await launchRanks<{ code: string; message: string; ms: number }>(
        join(pkg, 'test/fixtures/pg-worker.ts'),
        3,
        ['exit-mid-allocate'],
        { ...process.env, PLEXUS_COLLECTIVES_TRANSPORT: 'shm', PLEXUS_SHM_ZERO_COPY: '1' },
      );
      expect(results.length).toBe(2);
      for (const r of results) {
        expect(r.code, r.message).toBe('broken');
        expect(r.ms).toBeLessThan(5_000);
      }
      expect(readdirSync('/dev/shm').filter((f) => !before.has(f))).toEqual([]);
    },
    40_000,
  );

  it.skipIf(noAddon)(
    'a SIGKILLed peer mid in-place all-reduce: survivors reject with broken, no files left',
    async () => {
      const before = new Set(readdirSync('/dev/shm'));
      await expectSurvivorsRejectAfterKill(children, {
        PLEXUS_COLLECTIVES_TRANSPORT: 'shm',
        PLEXUS_SHM_ZERO_COPY: '1',
        PLEXUS_TEST_SHARED: '1',
      });
      expect(readdirSync('/dev/shm').filter((f) => !before.has(f))).toEqual([]);
    },
    40_000,
  );
});
