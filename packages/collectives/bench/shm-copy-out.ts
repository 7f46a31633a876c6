// The zero-copy all-reduce's copies with non-temporal stores against
// ordinary stores, paired: within one launch the two alternate, 10
// all-reduces each, the order flipped every pair, so both see the same
// machine. Two steps are toggled, one at a time, the other left at its
// default: the copy out (`streamMinBytes` 0 and Infinity; what the
// all-reduce does from 32 MiB on the copying path, and on the shared-array
// path when ranks outnumber cores), on ordinary arrays and arrays from
// allocateShared; and the copy in (`streamCopyIn`; by default from 32 MiB
// when ranks outnumber cores), on ordinary arrays (shared ones have none).
// Float32 max at 4, 16 and 64 MiB, 2 and 4 ranks. Reports the time per
// all-reduce (mean over ranks) and the toggled step's, as medians and as
// the median of the paired ratios (non-temporal / ordinary).
// Writes bench/results/shm-copy-out.json (PLEXUS_BENCH_OUT elsewhere).
//   npx tsx bench/shm-copy-out.ts      (PLEXUS_BENCH_LAUNCHES, default 3; about two minutes)
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
/** The copy whose stores are toggled. */
type Step = 'copyOut' | 'copyIn';
/** The toggled steps for each kind of array (shared arrays are not copied in). */
const STEPS: Record<Arrays, Step[]> = { ordinary: ['copyOut', 'copyIn'], shared: ['copyOut'] };

/** The all-reduce options that put `step`'s copy on `stores`, the other copy at its default. */
function storesOption(step: Step, stores: Stores) {
  const streamed = stores === 'non-temporal';
  return step === 'copyOut'
    ? { streamMinBytes: streamed ? 0 : Number.POSITIVE_INFINITY }
    : { streamCopyIn: streamed };
}

/** One timed batch of `CALLS` all-reduces: ms per call, averaged over ranks. */
interface Sample {
  worldSize: number;
  bytes: number;
  arrays: Arrays;
  step: Step;
  stores: Stores;
  ms: number;
  /** The toggled step's time per call. */
  stepMs: number;
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
      for (const step of STEPS[arrays]) {
        for (let pair = 0; pair < PAIRS; pair++) {
          const order: Stores[] =
            pair % 2 === 0 ? ['ordinary', 'non-temporal'] : ['non-temporal', 'ordinary'];
          for (const stores of order) {
            const profile: ShmAllReduceProfile = { copyIn: 0, reduce: 0, copyOut: 0, wait: 0 };
            const options = { profile, ...storesOption(step, stores) };
            await group.barrier();
            const t = performance.now();
            for (let i = 0; i < CALLS; i++) await shmAllReduce(channel, buf, 'max', options);
            const mine = new Float64Array([(performance.now() - t) / CALLS, profile[step] / CALLS]);
            const mean = await group.allReduce(mine, 'avg');
            samples.push({
              worldSize: group.worldSize,
              bytes,
              arrays,
              step,
              stores,
              ms: mean[0]!,
              stepMs: mean[1]!,
            });
          }
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
        for (const step of STEPS[arrays]) {
          const of = (stores: Stores) =>
            samples.filter(
              (s) =>
                s.worldSize === n &&
                s.bytes === bytes &&
                s.arrays === arrays &&
                s.step === step &&
                s.stores === stores,
            );
          const plain = of('ordinary');
          const nt = of('non-temporal');
          // Each pair of batches ran back to back: pair the i-th of each.
          const ratio = (k: 'ms' | 'stepMs') =>
            round(median(nt.map((s, i) => s[k] / plain[i]![k])));
          const row = {
            worldSize: n,
            bytes,
            arrays,
            step,
            ordinaryMs: round(median(plain.map((s) => s.ms))),
            nonTemporalMs: round(median(nt.map((s) => s.ms))),
            ordinaryStepMs: round(median(plain.map((s) => s.stepMs))),
            nonTemporalStepMs: round(median(nt.map((s) => s.stepMs))),
            pairedTimeRatio: ratio('ms'),
            pairedStepRatio: ratio('stepMs'),
            pairs: plain.length,
          };
          table.push(row);
          console.log(
            `n=${n} ${String(bytes / MIB).padStart(2)} MiB ${arrays.padEnd(8)} ${step.padEnd(7)} all-reduce ${row.ordinaryMs} -> ${row.nonTemporalMs} ms (paired ${row.pairedTimeRatio}), ${step} ${row.ordinaryStepMs} -> ${row.nonTemporalStepMs} ms (paired ${row.pairedStepRatio})`,
          );
        }
      }
    }
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify(
      {
        benchmark:
          'zero-copy all-reduce (float32 max), copy out and copy in with non-temporal stores vs ordinary stores',
        definitions: `per launch, for each size, kind of array and toggled step (copyOut: streamMinBytes 0 vs Infinity; copyIn: streamCopyIn true vs false; the other step at its default), ${PAIRS} pairs of batches of ${CALLS} all-reduces, ordinary and non-temporal stores back to back (which first alternates by pair); ms = batch time / ${CALLS}, averaged over ranks; stepMs = the toggled step per call (profile), averaged over ranks; medians over launches and pairs; paired ratios = non-temporal / ordinary of the same pair, median`,
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
