// The zero-copy all-reduce's copy out with non-temporal stores (what it does
// from 32 MiB on the copying path, and on the shared-array path when ranks
// outnumber cores) against ordinary stores, paired: within one launch the
// two alternate (`streamMinBytes` 0 and Infinity), 10 all-reduces each, the
// order flipped every pair, so both see the same machine. Float32 max at 4,
// 16 and 64 MiB, 2 and 4 ranks, ordinary arrays and arrays from
// allocateShared. Reports the time per all-reduce (mean over ranks) and the
// copy-out step's, as medians and as the median of the paired ratios
// (non-temporal / ordinary).
// Writes bench/results/shm-copy-out.json (PLEXUS_BENCH_OUT elsewhere).
//   npx tsx bench/shm-copy-out.ts      (PLEXUS_BENCH_LAUNCHES, default 3; about a minute)
// The same file is the worker: plexus-run starts it with RANK set.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ShmAllReduceProfile, shmAllReduce } from '../src/algorithms/shm-all-reduce.js';
import { initProcessGroup } from '../src/index.js';
import { zeroCopyChannelOf } from '../src/transport/shm/shm-transport.js';
import { launchRanks } from './launch-ranks.js';
import { machineFields } from './machine.js';

const MIB = 1 << 20;
const SIZES = [4 * MIB, 16 * MIB, 64 * MIB];
const CALLS = 10;
const PAIRS = 5;
const launches = Number(process.env.PLEXUS_BENCH_LAUNCHES ?? 3);
const OUT =
  process.env.PLEXUS_BENCH_OUT ??
  fileURLToPath(new URL('./results/shm-copy-out.json', import.meta.url));

type Stores = 'ordinary' | 'non-temporal';
type Arrays = 'ordinary' | 'shared';

/** One timed batch of `CALLS` all-reduces: ms per call, averaged over ranks. */
interface Sample {
  worldSize: number;
  bytes: number;
  arrays: Arrays;
  stores: Stores;
  ms: number;
  copyOutMs: number;
}

async function worker(): Promise<void> {
  const group = await initProcessGroup({ transport: 'shm', timeoutMs: 120_000 });
  const channel = zeroCopyChannelOf(group.transport);
  if (channel === undefined) throw new Error('zero-copy is off: build the addon first');
  const samples: Sample[] = [];
  for (const bytes of SIZES) {
    for (const arrays of ['ordinary', 'shared'] as const) {
      const buf =
        arrays === 'shared'
          ? await group.allocateShared(Float32Array, bytes / 4)
          : new Float32Array(bytes / 4);
      buf.fill(1);
      await shmAllReduce(channel, buf, 'max'); // warm-up: pages, JIT
      for (let pair = 0; pair < PAIRS; pair++) {
        const order: Stores[] =
          pair % 2 === 0 ? ['ordinary', 'non-temporal'] : ['non-temporal', 'ordinary'];
        for (const stores of order) {
          const profile: ShmAllReduceProfile = { copyIn: 0, reduce: 0, copyOut: 0, wait: 0 };
          const streamMinBytes = stores === 'ordinary' ? Number.POSITIVE_INFINITY : 0;
          await group.barrier();
          const t = performance.now();
          for (let i = 0; i < CALLS; i++) {
            await shmAllReduce(channel, buf, 'max', { profile, streamMinBytes });
          }
          const mine = new Float64Array([(performance.now() - t) / CALLS, profile.copyOut / CALLS]);
          const mean = await group.allReduce(mine, 'avg');
          samples.push({
            worldSize: group.worldSize,
            bytes,
            arrays,
            stores,
            ms: mean[0]!,
            copyOutMs: mean[1]!,
          });
        }
      }
      if (buf[0] !== 1) throw new Error(`max of ones gave ${buf[0]}`);
      group.releaseShared(buf);
    }
  }
  if (group.rank === 0) for (const s of samples) console.log(`RESULT ${JSON.stringify(s)}`);
  await group.barrier();
  await group.destroy();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const round = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const samples: Sample[] = [];
  for (let l = 0; l < launches; l++) {
    for (const n of [2, 4]) {
      process.stderr.write(`launch ${l + 1}/${launches}, n=${n} ...\n`);
      samples.push(
        ...(await launchRanks<Sample>(fileURLToPath(import.meta.url), n, [], {
          ...process.env,
          PLEXUS_SHM_ZERO_COPY: '1',
        })),
      );
    }
  }
  const table = [];
  for (const n of [2, 4]) {
    for (const bytes of SIZES) {
      for (const arrays of ['ordinary', 'shared'] as const) {
        const of = (stores: Stores) =>
          samples.filter(
            (s) =>
              s.worldSize === n && s.bytes === bytes && s.arrays === arrays && s.stores === stores,
          );
        const plain = of('ordinary');
        const nt = of('non-temporal');
        // Each pair of batches ran back to back: pair the i-th of each.
        const ratio = (k: 'ms' | 'copyOutMs') =>
          round(median(nt.map((s, i) => s[k] / plain[i]![k])));
        const row = {
          worldSize: n,
          bytes,
          arrays,
          ordinaryMs: round(median(plain.map((s) => s.ms))),
          nonTemporalMs: round(median(nt.map((s) => s.ms))),
          ordinaryCopyOutMs: round(median(plain.map((s) => s.copyOutMs))),
          nonTemporalCopyOutMs: round(median(nt.map((s) => s.copyOutMs))),
          pairedTimeRatio: ratio('ms'),
          pairedCopyOutRatio: ratio('copyOutMs'),
          pairs: plain.length,
        };
        table.push(row);
        console.log(
          `n=${n} ${String(bytes / MIB).padStart(2)} MiB ${arrays.padEnd(8)} all-reduce ${row.ordinaryMs} -> ${row.nonTemporalMs} ms (paired ${row.pairedTimeRatio}), copy out ${row.ordinaryCopyOutMs} -> ${row.nonTemporalCopyOutMs} ms (paired ${row.pairedCopyOutRatio})`,
        );
      }
    }
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify(
      {
        benchmark:
          'zero-copy all-reduce (float32 max), copy out with non-temporal stores vs ordinary stores',
        definitions: `per launch, for each size and kind of array, ${PAIRS} pairs of batches of ${CALLS} all-reduces, ordinary and non-temporal stores back to back (which first alternates by pair); ms = batch time / ${CALLS}, averaged over ranks; copyOutMs = the copy-out step per call (profile), averaged over ranks; medians over launches and pairs; paired ratios = non-temporal / ordinary of the same pair, median`,
        ...machineFields(loadBefore),
        launches,
        table,
        raw: samples,
      },
      null,
      2,
    )}\n`,
  );
}

if (process.env.RANK !== undefined) await worker();
else await main();
