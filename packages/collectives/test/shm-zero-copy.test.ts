// The zero-copy all-reduce of the shared-memory transport (native addon +
// shmAllReduce) against a sequential plain-JS reference, its fallback, and
// its failure modes. Groups of several ranks live in this one process here
// (their waits poll instead of sleeping); real processes are in the kill test.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { shmAllReduce } from '../src/algorithms/shm-all-reduce.js';
import {
  initProcessGroup,
  PlexusCollectivesError,
  type ProcessGroup,
  type ReduceOp,
  type ShmTransport,
} from '../src/index.js';
import { loadNativeAddon } from '../src/native/addon.js';
import { zeroCopyChannelOf } from '../src/transport/shm/shm-transport.js';
import { cleanedUpAfterEach } from './fixtures/cleanup.js';
import { expectSurvivorsRejectAfterKill, freePort } from './fixtures/kill-mid-all-reduce.js';
import { localGroups } from './fixtures/local-groups.js';
import { rawBytes, reduceInRankOrder } from './fixtures/reference.js';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const { children, groups } = cleanedUpAfterEach();

// `pnpm test` does not run this package's own build first: make sure the
// addon exists. Without g++ or Node's headers the script says it skipped,
// and so do the zero-copy tests.
const built = execFileSync(
  process.execPath,
  [join(pkg, 'scripts/build-native.mjs'), '--if-stale', '--quiet'],
  { encoding: 'utf8' },
);
const toolsMissing = built.includes('skipped (');
const { native, why } = loadNativeAddon();
if (native === undefined) console.warn(`zero-copy tests skipped: ${built.trim() || why}`);

function shmFiles(): string[] {
  return readdirSync('/dev/shm').filter((f) => f.startsWith('plexus-shm-'));
}

async function initAll(
  worldSize: number,
  shm: { slotBytes?: number; zeroCopy?: boolean; dir?: string } = {},
  timeoutMs = 10_000,
): Promise<ProcessGroup[]> {
  const gs = await localGroups(worldSize, { timeoutMs, transport: 'shm', shm });
  groups.push(...gs);
  return gs;
}

type DType = 'f32' | 'f64' | 'i32' | 'i64' | 'u8';
const DTYPES: DType[] = ['f32', 'f64', 'i32', 'i64', 'u8'];
const OPS: ReduceOp[] = ['sum', 'prod', 'min', 'max', 'avg'];

/** Deterministic inputs with the awkward values: negatives, wrap-around, -0, NaN (for min/max). */
function input(dtype: DType, op: ReduceOp, rank: number, length: number, seed: number) {
  let s = (seed * 7919 + rank * 104729 + length) >>> 0;
  const next = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
  const special = op === 'min' || op === 'max';
  switch (dtype) {
    case 'f32':
    case 'f64': {
      const a = dtype === 'f32' ? new Float32Array(length) : new Float64Array(length);
      for (let i = 0; i < length; i++) {
        const u = next();
        a[i] =
          special && u < 0.02
            ? Number.NaN
            : special && u < 0.06
              ? u < 0.04
                ? -0
                : 0
              : op === 'prod'
                ? 0.5 + next()
                : (next() - 0.5) * 1000;
      }
      return a;
    }
    case 'i32':
      return Int32Array.from({ length }, () => Math.floor((next() - 0.5) * 2 ** 32));
    case 'i64':
      return BigInt64Array.from({ length }, () =>
        BigInt.asIntN(
          64,
          (BigInt(Math.floor(next() * 2 ** 32)) << 32n) ^ BigInt(Math.floor(next() * 2 ** 32)),
        ),
      );
    case 'u8':
      return Uint8Array.from({ length }, () => Math.floor(next() * 256));
  }
}

describe('zero-copy shared-memory all-reduce', () => {
  it.skipIf(toolsMissing)('the addon builds and loads wherever g++ and node_api.h exist', () => {
    expect(native, why).toBeDefined();
  });

  it.skipIf(native === undefined)(
    'streamCopy (non-temporal stores) copies like set at every alignment and length, and nothing past the end',
    () => {
      const src = Uint8Array.from({ length: (1 << 20) + 300 }, (_, i) => (i * 131 + 7) & 255);
      for (const length of [0, 1, 63, 64, 255, 256, 257, 319, 1000, 4109, (1 << 20) + 5]) {
        for (const [od, os] of [
          [0, 0],
          [1, 0],
          [0, 3],
          [17, 63],
          [48, 5],
        ] as const) {
          const dst = new Uint8Array(length + 128).fill(0xaa);
          native!.streamCopy(dst.subarray(od, od + length), src.subarray(os, os + length));
          const where = `length ${length}, dst offset ${od}, src offset ${os}`;
          expect(
            Buffer.from(dst.subarray(od, od + length)).equals(src.subarray(os, os + length)),
            where,
          ).toBe(true);
          expect(
            dst.subarray(0, od).every((x) => x === 0xaa),
            where,
          ).toBe(true);
          expect(
            dst.subarray(od + length).every((x) => x === 0xaa),
            where,
          ).toBe(true);
        }
      }
      expect(() => native!.streamCopy(new Uint8Array(8), new Uint8Array(9))).toThrow(
        /streamCopy: expected dst and src to be typed arrays of the same byte length/,
      );
    },
  );

  it('the build script skips with the reason, and exit code 0, when the compiler is missing', () => {
    const out = execFileSync(process.execPath, [join(pkg, 'scripts/build-native.mjs')], {
      encoding: 'utf8',
      env: { ...process.env, CXX: 'plexus-no-such-compiler' },
    });
    expect(out).toMatch(
      /^build-native: skipped \(no C\+\+ compiler: `plexus-no-such-compiler --version` failed\)/,
    );
  });

  for (const worldSize of [1, 2, 3, 4]) {
    it.skipIf(native === undefined)(
      `world size ${worldSize}: every dtype and op, lengths 0/1/odd/multi-piece, bit-identical to the reference`,
      async () => {
        // 4 KiB halves: 1024 bytes per chunk at 4 ranks, so 2003 elements take several pieces.
        const gs = await initAll(worldSize, { slotBytes: 4096 });
        for (const g of gs) {
          const t = g.transport as ShmTransport;
          expect(t.zeroCopy, t.zeroCopyReason).toBe(worldSize > 1);
        }
        let seed = worldSize * 1000;
        for (const length of [0, 1, 7, 2003]) {
          for (const dtype of DTYPES) {
            for (const op of OPS) {
              seed++;
              const inputs = gs.map((_, r) => input(dtype, op, r, length, seed));
              const want = reduceInRankOrder(inputs, op);
              const outs = await Promise.all(gs.map((g, r) => g.allReduce(inputs[r]!.slice(), op)));
              for (let r = 0; r < worldSize; r++) {
                const where = `${dtype}/${op}/len ${length} on rank ${r} of ${worldSize}`;
                expect(outs[r]!.constructor, where).toBe(want.constructor);
                expect(rawBytes(outs[r]!).equals(rawBytes(want)), where).toBe(true);
              }
            }
          }
        }
      },
      30_000,
    );
  }

  it.skipIf(native === undefined)(
    'non-temporal copies in and out (streamCopyIn, streamMinBytes 0) are used when asked and give the same bits, ordinary and shared arrays',
    async () => {
      for (const worldSize of [2, 3, 4]) {
        const gs = await initAll(worldSize, { slotBytes: 4096 });
        // Streamed copies into a rank's own segment (the copy in) and out of it.
        const streamed = { in: 0, out: 0 };
        // The channel with streamCopy counted; its state (seq, pieces) stays the channel's own.
        const counting = gs.map((g) => {
          const channel = zeroCopyChannelOf(g.transport)!;
          const ownSegment = channel.segments[channel.rank];
          // The addon's own properties are read-only: count through a copy of it.
          const spy = {
            ...channel.native,
            streamCopy: (dst: ArrayBufferView, src: ArrayBufferView) => {
              if (dst.buffer === ownSegment) streamed.in++;
              else streamed.out++;
              channel.native.streamCopy(dst, src);
            },
          };
          return new Proxy(channel, {
            get: (target, key) => (key === 'native' ? spy : Reflect.get(target, key)),
          });
        });
        for (const shared of [false, true]) {
          for (const stream of [true, false]) {
            for (const [length, seed] of [
              [2003, 1],
              [7, 2],
            ] as const) {
              const bufs = shared
                ? await Promise.all(gs.map((g) => g.allocateShared(Float64Array, length)))
                : gs.map(() => new Float64Array(length));
              for (let r = 0; r < worldSize; r++) {
                bufs[r]!.set(input('f64', 'sum', r, length, seed + worldSize) as Float64Array);
              }
              const want = reduceInRankOrder(
                bufs.map((b) => b.slice()),
                'sum',
              );
              streamed.in = 0;
              streamed.out = 0;
              const options = stream
                ? { streamCopyIn: true, streamMinBytes: 0 }
                : { streamCopyIn: false, streamMinBytes: Number.POSITIVE_INFINITY };
              await Promise.all(counting.map((c, r) => shmAllReduce(c, bufs[r]!, 'sum', options)));
              const where = `${worldSize} ranks, ${shared ? 'shared' : 'ordinary'} arrays, length ${length}, streamed ${stream}`;
              // Below 256 bytes streamCopy is a plain memcpy, but it is still the one called.
              // Shared arrays at one offset take the symmetric path: no copy in.
              expect(streamed.in > 0, where).toBe(stream && !shared);
              expect(streamed.out > 0, where).toBe(stream);
              for (const b of bufs) expect(rawBytes(b).equals(rawBytes(want)), where).toBe(true);
              if (shared) for (let r = 0; r < worldSize; r++) gs[r]!.releaseShared(bufs[r]!);
            }
          }
        }
        for (const g of groups.splice(0).reverse()) await g.destroy();
      }
    },
    30_000,
  );

  it.skipIf(native === undefined)(
    'a large buffer at the default slot size (several 4 MiB pieces), 8 ranks on a small one',
    async () => {
      const gs = await initAll(2);
      const n = (9 << 20) / 4 + 3;
      const inputs = gs.map((_, r) =>
        Float32Array.from({ length: n }, (_, i) => ((i * 7 + r) % 23) - 11),
      );
      const want = reduceInRankOrder(inputs, 'sum');
      const outs = await Promise.all(gs.map((g, r) => g.allReduce(inputs[r]!, 'sum')));
      for (const o of outs) expect(rawBytes(o).equals(rawBytes(want))).toBe(true);
      for (const g of groups.splice(0).reverse()) await g.destroy();

      const eight = await initAll(8, { slotBytes: 8192 });
      expect((eight[0]!.transport as ShmTransport).zeroCopy).toBe(true);
      const xs = eight.map((_, r) => input('f64', 'sum', r, 5001, 99) as Float64Array);
      const want8 = reduceInRankOrder(xs, 'sum');
      const outs8 = await Promise.all(eight.map((g, r) => g.allReduce(xs[r]!, 'sum')));
      for (const o of outs8) expect(rawBytes(o).equals(rawBytes(want8))).toBe(true);
    },
    30_000,
  );

  it('forced fallback (zeroCopy: false or PLEXUS_SHM_ZERO_COPY=0) copies through pwrite/pread and is still correct', async () => {
    const off = await initAll(3, { zeroCopy: false, slotBytes: 4096 });
    for (const g of off) {
      expect((g.transport as ShmTransport).zeroCopy).toBe(false);
      expect((g.transport as ShmTransport).zeroCopyReason).toMatch(/turned off/);
    }
    const xs = off.map((_, r) => input('i32', 'sum', r, 3001, 5) as Int32Array);
    const outs = await Promise.all(off.map((g, r) => g.allReduce(xs[r]!.slice(), 'sum')));
    for (const o of outs)
      expect(rawBytes(o).equals(rawBytes(reduceInRankOrder(xs, 'sum')))).toBe(true);
    for (const g of groups.splice(0).reverse()) await g.destroy();

    const saved = process.env.PLEXUS_SHM_ZERO_COPY;
    process.env.PLEXUS_SHM_ZERO_COPY = '0';
    try {
      const envOff = await initAll(2);
      expect((envOff[0]!.transport as ShmTransport).zeroCopy).toBe(false);
      const ys = envOff.map((_, r) => input('f32', 'max', r, 100, 6));
      const got = await Promise.all(envOff.map((g, r) => g.allReduce(ys[r]!.slice(), 'max')));
      for (const o of got)
        expect(rawBytes(o).equals(rawBytes(reduceInRankOrder(ys, 'max')))).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.PLEXUS_SHM_ZERO_COPY;
      else process.env.PLEXUS_SHM_ZERO_COPY = saved;
    }
  }, 30_000);

  it.skipIf(native === undefined)(
    'ranks that disagree on length, dtype or op reject with mismatch on every rank',
    async () => {
      const gs = await initAll(3, { slotBytes: 4096 });
      const results = await Promise.allSettled([
        gs[0]!.allReduce(new Float32Array(100), 'sum'),
        gs[1]!.allReduce(new Float32Array(101), 'sum'),
        gs[2]!.allReduce(new Float32Array(100), 'sum'),
      ]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const e = (r as PromiseRejectedResult).reason;
        expect(PlexusCollectivesError.isInstance(e)).toBe(true);
        expect(e.code).toBe('mismatch');
        expect(e.message).toMatch(
          /^@plexus\/collectives\/process-group: allReduce on rank \d failed: .*same length, type and op/,
        );
      }
    },
  );

  it.skipIf(native === undefined)(
    'a rank that never calls makes the others time out with a typed error',
    async () => {
      const gs = await initAll(3, {}, 400);
      const t = performance.now();
      const results = await Promise.allSettled([
        gs[0]!.allReduce(new Float64Array(10), 'sum'),
        gs[1]!.allReduce(new Float64Array(10), 'sum'),
      ]);
      expect(performance.now() - t).toBeLessThan(3_000);
      for (const r of results) {
        const e = (r as PromiseRejectedResult).reason;
        expect(e.code).toBe('timeout');
      }
    },
  );

  it.skipIf(native === undefined)(
    'sub-groups and a forced algorithm run the generic algorithms over the same transport',
    async () => {
      const port = await freePort();
      const gs = await Promise.all(
        [0, 1, 2].map((rank) =>
          initProcessGroup({
            rank,
            worldSize: 3,
            masterAddr: '127.0.0.1',
            masterPort: port,
            transport: 'shm',
            env: {},
            collectives: { algorithm: 'ring' },
          }),
        ),
      );
      groups.push(...gs);
      const xs = gs.map((_, r) => input('f64', 'sum', r, 50, 8) as Float64Array);
      const outs = await Promise.all(gs.map((g, r) => g.allReduce(xs[r]!.slice(), 'sum')));
      // The ring reduces in another order: equal within rounding, not bit for bit.
      const want = reduceInRankOrder(xs, 'sum') as Float64Array;
      for (const o of outs) for (let i = 0; i < 50; i++) expect(o[i]).toBeCloseTo(want[i]!, 9);
      const subs = [gs[0]!, gs[2]!].map((g) => g.newSubGroup([0, 2]));
      const sub = await Promise.all(
        subs.map((s, i) => s.allReduce(new Int32Array([i + 1, 5]), 'sum')),
      );
      for (const o of sub) expect(Array.from(o)).toEqual([3, 10]);
    },
  );

  it.skipIf(native === undefined)(
    'a full tmpfs makes zero-copy fall back with the reason instead of a SIGBUS later',
    async (ctx) => {
      // A 1 MiB tmpfs of our own: a segment of 2 x 400 KiB halves cannot be reserved in it twice.
      const dir = mkdtempSync(join(tmpdir(), 'plexus-tiny-shm-'));
      try {
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'ignore' });
      } catch {
        rmSync(dir, { recursive: true, force: true });
        ctx.skip('mounting a tmpfs needs root');
        return;
      }
      try {
        const gs = await initAll(2, { slotBytes: 400 << 10, dir });
        for (const g of gs) {
          const t = g.transport as ShmTransport;
          expect(t.zeroCopy).toBe(false);
          expect(t.zeroCopyReason).toMatch(/No space left on device|have no zero-copy segment/);
        }
        const outs = await Promise.all(
          gs.map((g) => g.allReduce(new Float32Array(1000).fill(g.rank + 1), 'sum')),
        );
        for (const o of outs) expect(o.every((x) => x === 3)).toBe(true);
        for (const g of groups.splice(0).reverse()) await g.destroy();
        expect(readdirSync(dir)).toEqual([]);
      } finally {
        for (const g of groups.splice(0).reverse()) await g.destroy();
        execFileSync('umount', [dir]);
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  it.skipIf(native === undefined)('leaves no files in /dev/shm after destroy', async () => {
    const gs = await initAll(4, { slotBytes: 8192 });
    const ids = gs.map((g) => (g.transport as ShmTransport).id);
    await Promise.all(gs.map((g) => g.allReduce(new Float32Array(10_000).fill(1), 'sum')));
    for (const g of groups.splice(0).reverse()) await g.destroy();
    expect(shmFiles().filter((f) => ids.some((id) => f.includes(id)))).toEqual([]);
  });

  it.skipIf(native === undefined)(
    'a SIGKILLed peer mid zero-copy all-reduce: survivors reject with broken, no files left',
    async () => {
      const before = new Set(shmFiles());
      await expectSurvivorsRejectAfterKill(children, {
        PLEXUS_COLLECTIVES_TRANSPORT: 'shm',
        PLEXUS_SHM_ZERO_COPY: '1',
      });
      expect(shmFiles().filter((f) => !before.has(f))).toEqual([]);
    },
    40_000,
  );
});
