// All-reduce between Node.js processes on one host: the shared-memory
// transport with its zero-copy path (native addon: every rank's segment
// mapped into every process, shmAllReduce), on ordinary arrays
// (shm-zero-copy) and on arrays from allocateShared (shm-shared: every
// rank's buffer mapped by all, no copy in), the same transport forced onto
// pwrite/pread (PLEXUS_SHM_ZERO_COPY=0, the generic algorithms), TCP loopback
// and PyTorch's Gloo (bench/allreduce_gloo.py); beside a single-thread memcpy
// (Uint8Array.set) of the same size as the ceiling. Float32 sum from 4 KiB to
// 256 MiB, world sizes 2 and 4, timed as nccl-tests do (timed-all-reduce.ts;
// algbw = bytes / time, busbw = algbw * 2 (n - 1) / n), with busbw / memcpy
// bandwidth and, for the zero-copy path, the time of each step per call
// (copy in, reduce, copy out, waiting for the peers). One-way point-to-point
// bandwidth (n = 2) for the two copying transports.
// Writes bench/results/allreduce-shm.json (PLEXUS_BENCH_OUT elsewhere).
//   npx tsx bench/allreduce-shm.ts [--quick] [--no-tcp] [--no-gloo]
// PLEXUS_BENCH_VARIANTS (a JSON array, e.g. ["shm-shared"]) runs only those;
// PLEXUS_BENCH_SIZES (a JSON array of bytes), PLEXUS_BENCH_LAUNCHES,
// PLEXUS_BENCH_PYTHON (a python3 with torch) and PLEXUS_BENCH_MACHINE as in
// allreduce-tcp.ts. The same file is the worker: plexus-run starts it with RANK set.
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type ShmAllReduceProfile, shmAllReduce } from '../src/algorithms/shm-all-reduce.js';
import { initProcessGroup, type ShmTransport } from '../src/index.js';
import { loadNativeAddon } from '../src/native/addon.js';
import { reduceElements } from '../src/reduction/reducer.js';
import { zeroCopyChannelOf } from '../src/transport/shm/shm-transport.js';
import { runGloo } from './gloo-peer.js';
import { launchRanks } from './launch-ranks.js';
import { machineFields } from './machine.js';
import { itersFor, type TimedAllReduce, timeAllReduce } from './timed-all-reduce.js';

const KIB = 1 << 10;
const MIB = 1 << 20;
const quick = process.argv.includes('--quick');
const sizes: number[] = process.env.PLEXUS_BENCH_SIZES
  ? JSON.parse(process.env.PLEXUS_BENCH_SIZES)
  : quick
    ? [4 * MIB, 64 * MIB]
    : [4 * KIB, 64 * KIB, 1 * MIB, 4 * MIB, 16 * MIB, 64 * MIB, 256 * MIB];
/**
 * Launches per variant and world size. On a shared 2-core VM one launch's
 * numbers hang on where the scheduler and the hypervisor put its processes
 * (runs of the same code differed by 2x), so every launch's samples are
 * pooled and the median is taken over all of them.
 */
const launches = Number(process.env.PLEXUS_BENCH_LAUNCHES ?? (quick ? 1 : 3));
const PYTHON = process.env.PLEXUS_BENCH_PYTHON ?? '/usr/bin/python3';
const OUT =
  process.env.PLEXUS_BENCH_OUT ??
  fileURLToPath(new URL('./results/allreduce-shm.json', import.meta.url));

type Variant = 'shm-zero-copy' | 'shm-shared' | 'shm-pwrite' | 'tcp' | 'gloo';
const VARIANTS: Variant[] = ['shm-zero-copy', 'shm-shared', 'shm-pwrite', 'tcp', 'gloo'];
/** Variants that run the zero-copy all-reduce (and report its steps). */
const zeroCopyVariant = (v: Variant) => v === 'shm-zero-copy' || v === 'shm-shared';

interface Row {
  variant: Variant;
  worldSize: number;
  kind: 'p2p' | 'allReduce';
  bytes: number;
  iters: number;
  /**
   * All-reduce: per timed loop, its time / iters averaged over ranks (ms).
   * Point-to-point: per iteration, rank 0's time after a barrier (ms).
   */
  ms: number[];
  /** Zero-copy only: milliseconds per call in each step on rank 0, over extra calls. */
  steps?: ShmAllReduceProfile;
  /** Gloo only: the PyTorch version. */
  torch?: string;
}

async function worker(): Promise<void> {
  const variant = process.argv[2] as Variant;
  const group = await initProcessGroup({
    transport: variant === 'tcp' ? 'tcp' : 'shm',
    timeoutMs: 120_000,
  });
  const { rank, worldSize } = group;
  if (zeroCopyVariant(variant) && !(group.transport as ShmTransport).zeroCopy) {
    throw new Error(
      `zero-copy is off: ${(group.transport as ShmTransport).zeroCopyReason} (build the addon: node scripts/build-native.mjs)`,
    );
  }
  const rows: Row[] = [];
  for (const bytes of sizes) {
    const iters = itersFor(bytes);
    if (worldSize === 2 && !zeroCopyVariant(variant)) {
      const buf = new Float32Array(bytes / 4).fill(rank + 1);
      const ms: number[] = [];
      for (let i = -1; i < iters; i++) {
        await group.barrier();
        const t = performance.now();
        if (rank === 0) await group.send(buf, 1);
        else await group.recv(buf, 0);
        // The receiver's finish time is the one that counts: it acknowledges.
        if (rank === 1) await group.send(new Float32Array(1), 0);
        else await group.recv(new Float32Array(1), 1);
        if (i >= 0) ms.push(performance.now() - t);
      }
      rows.push({ variant, worldSize, kind: 'p2p', bytes, iters, ms });
    }
    const shared = variant === 'shm-shared';
    const timed: TimedAllReduce = await timeAllReduce(group, bytes, shared);
    const row: Row = { variant, worldSize, kind: 'allReduce', bytes, iters, ms: timed.ms };
    const channel = zeroCopyChannelOf(group.transport);
    if (zeroCopyVariant(variant) && channel !== undefined) {
      // The group's all-reduce is this very function; called directly to time its steps.
      const steps: ShmAllReduceProfile = { copyIn: 0, reduce: 0, copyOut: 0, wait: 0 };
      const want = (worldSize * (worldSize + 1)) / 2;
      const buf = shared
        ? await group.allocateShared(Float32Array, bytes / 4)
        : new Float32Array(bytes / 4);
      const calls = Math.min(iters, 10);
      for (let i = 0; i < calls; i++) {
        buf.fill(rank + 1);
        await group.barrier();
        await shmAllReduce(channel, buf, 'sum', { profile: steps });
        if (buf[0] !== want) throw new Error(`shmAllReduce gave ${buf[0]}, expected ${want}`);
      }
      group.releaseShared(buf);
      for (const k of Object.keys(steps) as (keyof ShmAllReduceProfile)[]) steps[k] /= calls;
      row.steps = steps;
    }
    rows.push(row);
  }
  if (rank === 0) for (const r of rows) console.log(`RESULT ${JSON.stringify(r)}`);
  await group.barrier();
  await group.destroy();
}

async function run(variant: Variant, n: number): Promise<Row[] | string> {
  if (variant === 'gloo') {
    const rows = await runGloo(PYTHON, n, sizes);
    if (typeof rows === 'string') return rows;
    return rows.map((r) => ({
      variant,
      worldSize: n,
      kind: 'allReduce',
      bytes: r.bytes,
      iters: r.iters,
      ms: r.ms,
      ...(r.torch === undefined ? {} : { torch: r.torch }),
    }));
  }
  return launchRanks<Row>(fileURLToPath(import.meta.url), n, [variant], {
    ...process.env,
    PLEXUS_SHM_ZERO_COPY: variant === 'shm-pwrite' ? '0' : '1',
  });
}

/**
 * Samples (ms per copy) of a single-thread copy of each size: a timed loop
 * of copies per sample, `samples` samples (fewer from 128 MiB).
 */
function memcpy(samples = 10): { bytes: number; ms: number[] }[] {
  return sizes.map((bytes) => {
    const src = new Uint8Array(bytes).fill(1);
    const dst = new Uint8Array(bytes);
    dst.set(src);
    // Enough copies per sample that the timer's resolution does not matter.
    const reps = Math.max(1, Math.min(4096, Math.floor((64 * MIB) / bytes)));
    const ms: number[] = [];
    for (let i = 0; i < (bytes >= 128 * MIB ? Math.ceil(samples / 2) : samples); i++) {
      const t = performance.now();
      for (let r = 0; r < reps; r++) dst.set(src);
      ms.push((performance.now() - t) / reps);
    }
    return { bytes, ms };
  });
}

/**
 * The reduction alone, in one process: the addon's kernel (what the zero-copy
 * path runs on mapped memory) against the package's wasm SIMD reducer, which
 * can only work on its own linear memory and so stages both inputs through
 * it. `acc += src` on float32, per size from 1 MiB.
 */
function reduction(): { bytes: number; nativeMs: number[]; wasmMs: number[] }[] {
  const native = loadNativeAddon().native;
  return sizes
    .filter((bytes) => bytes >= MIB)
    .map((bytes) => {
      const acc = new Float32Array(bytes / 4).fill(1);
      const src = new Float32Array(bytes / 4).fill(2);
      const nativeMs: number[] = [];
      const wasmMs: number[] = [];
      for (let i = -1; i < Math.min(itersFor(bytes), 10); i++) {
        let t = performance.now();
        native?.reduce(0, 0, 0, acc, null, [acc, src]);
        if (i >= 0 && native !== undefined) nativeMs.push(performance.now() - t);
        t = performance.now();
        reduceElements(acc, src, 'sum');
        if (i >= 0) wasmMs.push(performance.now() - t);
      }
      return { bytes, nativeMs, wasmMs };
    });
}

/** The variants to run: PLEXUS_BENCH_VARIANTS, else all but those switched off. */
function selectedVariants(): Variant[] {
  const raw = process.env.PLEXUS_BENCH_VARIANTS;
  if (raw !== undefined && raw !== '') {
    const asked: unknown = JSON.parse(raw);
    if (!Array.isArray(asked) || asked.some((v) => !VARIANTS.includes(v as Variant))) {
      throw new Error(
        `PLEXUS_BENCH_VARIANTS must be a JSON array of ${VARIANTS.join(', ')}; got ${raw}`,
      );
    }
    return asked as Variant[];
  }
  return VARIANTS.filter(
    (v) =>
      !(v === 'tcp' && process.argv.includes('--no-tcp')) &&
      !(v === 'gloo' && process.argv.includes('--no-gloo')),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;
const sizeName = (b: number) => (b >= MIB ? `${b / MIB} MiB` : `${b / KIB} KiB`);

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const variants = selectedVariants();
  const rows: Row[] = [];
  const failures: string[] = [];
  // memcpy before, between and after the launches: the machine's memory
  // bandwidth moves over minutes, and the reference should see the same ones.
  const copyBatches = [memcpy()];
  const reductions = reduction();
  for (let l = 0; l < launches; l++) {
    for (const n of [2, 4]) {
      for (const v of variants) {
        copyBatches.push(memcpy(2));
        process.stderr.write(`launch ${l + 1}/${launches}, n=${n}: ${v} ...\n`);
        const got = await run(v, n);
        if (typeof got === 'string') failures.push(`${v} n=${n}: ${got}`);
        else rows.push(...got);
      }
    }
  }
  // One row per variant, world size, kind and size: samples and step times pooled over launches.
  const same = (a: Row, b: Row) =>
    a.variant === b.variant &&
    a.worldSize === b.worldSize &&
    a.kind === b.kind &&
    a.bytes === b.bytes;
  const pooled: (Row & { launchesPooled: number })[] = [];
  for (const r of rows) {
    const p = pooled.find((x) => same(x, r));
    if (p === undefined) {
      pooled.push({ ...r, ms: [...r.ms], steps: r.steps && { ...r.steps }, launchesPooled: 1 });
      continue;
    }
    p.ms.push(...r.ms);
    p.launchesPooled++;
    if (p.steps !== undefined && r.steps !== undefined) {
      for (const k of Object.keys(r.steps) as (keyof ShmAllReduceProfile)[]) {
        p.steps[k] += r.steps[k];
      }
    }
  }
  for (const p of pooled) {
    if (p.steps === undefined) continue;
    for (const k of Object.keys(p.steps) as (keyof ShmAllReduceProfile)[]) {
      p.steps[k] /= p.launchesPooled;
    }
  }
  copyBatches.push(memcpy());
  const copies = sizes.map((bytes, i) => ({
    bytes,
    ms: copyBatches.flatMap((batch) => batch[i]!.ms),
  }));
  const memcpyGBps = new Map(copies.map((c) => [c.bytes, c.bytes / median(c.ms) / 1e6]));
  const busbwOf = (r: Row, ms: number) =>
    r.kind === 'allReduce' ? (r.bytes / ms / 1e6) * ((2 * (r.worldSize - 1)) / r.worldSize) : null;
  const table = [
    ...copies.map((c) => ({
      what: 'memcpy (Uint8Array.set, one thread)',
      worldSize: 1,
      bytes: c.bytes,
      medianMs: round(median(c.ms), 5),
      algbwGBps: round(memcpyGBps.get(c.bytes)!),
      busbwGBps: null as number | null,
      busbwOverMemcpy: null as number | null,
      busbwOverGloo: null as number | null,
      launchMedianMs: [] as number[],
      stepsMs: undefined as ShmAllReduceProfile | undefined,
    })),
    ...pooled.map((r) => {
      const ms = median(r.ms);
      const busbw = busbwOf(r, ms);
      const gloo = pooled.find((g) => g.variant === 'gloo' && same(g, { ...r, variant: 'gloo' }));
      return {
        what: `${r.kind} over ${r.variant}`,
        worldSize: r.worldSize,
        bytes: r.bytes,
        medianMs: round(ms, 5),
        algbwGBps: round(r.bytes / ms / 1e6),
        busbwGBps: busbw === null ? null : round(busbw),
        busbwOverMemcpy: busbw === null ? null : round(busbw / memcpyGBps.get(r.bytes)!),
        // Same bytes and n, so the busbw ratio is Gloo's median time over ours.
        busbwOverGloo:
          r.kind === 'allReduce' && gloo !== undefined && r.variant !== 'gloo'
            ? round(median(gloo.ms) / ms)
            : null,
        launchMedianMs: rows.filter((x) => same(x, r)).map((x) => round(median(x.ms), 5)),
        stepsMs:
          r.steps === undefined
            ? undefined
            : (Object.fromEntries(
                Object.entries(r.steps).map(([k, v]) => [k, round(v)]),
              ) as unknown as ShmAllReduceProfile),
      };
    }),
  ];
  const reductionTable = reductions.map((r) => ({
    bytes: r.bytes,
    nativeMs: r.nativeMs.length > 0 ? round(median(r.nativeMs)) : null,
    wasmMs: round(median(r.wasmMs)),
  }));
  for (const r of reductionTable) {
    console.log(
      `reduce acc += src (f32, ${sizeName(r.bytes)}, one process): addon ${r.nativeMs} ms, wasm SIMD ${r.wasmMs} ms`,
    );
  }
  for (const t of table) {
    console.log(
      `${t.what.padEnd(36)} n=${t.worldSize} ${sizeName(t.bytes).padStart(7)}  ${t.medianMs.toFixed(3).padStart(9)} ms  algbw ${t.algbwGBps.toFixed(3)} GB/s${t.busbwGBps === null ? '' : `  busbw ${t.busbwGBps.toFixed(3)} GB/s = ${t.busbwOverMemcpy} x memcpy${t.busbwOverGloo === null ? '' : `, ${t.busbwOverGloo} x gloo`} (launch medians ${t.launchMedianMs.join('/')} ms)`}${t.stepsMs ? `  steps ${JSON.stringify(t.stepsMs)}` : ''}`,
    );
  }
  for (const f of failures) console.log(`not measured: ${f}`);
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify(
      {
        benchmark: 'all-reduce float32 sum between processes of one host',
        definitions:
          "all-reduce time as nccl-tests' all_reduce_perf (bench/timed-all-reduce.ts; Gloo the same in allreduce_gloo.py): after a barrier each rank times a loop of back-to-back all-reduces and divides by their number, averaged over ranks; 3 loops per launch, pooled over launches, median; algbw = bytes / time; busbw = algbw * 2 (n - 1) / n; busbwOverMemcpy = busbw / the algbw of a single-thread Uint8Array.set of the same size (median of samples taken before, between and after the launches); busbwOverGloo = Gloo's median time / ours; p2p: rank 0's time per send after a barrier, acknowledged by the receiver",
        ...machineFields(loadBefore),
        peer: `PyTorch ${rows.find((r) => r.torch)?.torch ?? '(not run)'} Gloo (${PYTHON}), 1 intra-op thread`,
        quick,
        launches,
        failures,
        table,
        reduction: reductionTable,
        raw: { memcpy: copies, rows, reduction: reductions },
      },
      null,
      2,
    )}\n`,
  );
}

if (process.env.RANK !== undefined) await worker();
else await main();
