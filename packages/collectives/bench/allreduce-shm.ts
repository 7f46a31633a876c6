// All-reduce between Node.js processes on one host: the shared-memory
// transport with its zero-copy path (native addon: every rank's segment
// mapped into every process, shmAllReduce), the same transport forced onto
// pwrite/pread (PLEXUS_SHM_ZERO_COPY=0, the generic algorithms), and TCP
// loopback; beside a single-thread memcpy (Uint8Array.set) of the same size
// as the ceiling. Float32 sum at 4 and 64 MiB, world sizes 2 and 4, reported
// as nccl-tests do (time of rank 0 after a barrier before each iteration,
// algbw = bytes / time, busbw = algbw * 2 (n - 1) / n), with busbw / memcpy
// bandwidth and, for the zero-copy path, the time of each step per call
// (copy in, reduce, copy out, waiting for the peers). One-way point-to-point
// bandwidth (n = 2) for the two copying transports.
// Writes bench/results/allreduce-shm.json.
//   npx tsx bench/allreduce-shm.ts [--quick] [--no-tcp]
// The same file is the worker: plexus-run starts it with RANK set.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type ShmAllReduceProfile, shmAllReduce } from '../src/algorithms/shm-all-reduce.js';
import { initProcessGroup, type ShmTransport } from '../src/index.js';
import { loadNativeAddon } from '../src/native/addon.js';
import { reduceElements } from '../src/reduction/reducer.js';
import { zeroCopyChannelOf } from '../src/transport/shm/shm-transport.js';
import { launchRanks } from './launch-ranks.js';

const MIB = 1 << 20;
const quick = process.argv.includes('--quick');
const sizes = [4 * MIB, 64 * MIB];
/**
 * Launches per variant and world size. On a shared 2-core VM one launch's
 * numbers hang on where the scheduler and the hypervisor put its processes
 * (runs of the same code differed by 2x), so every launch's iterations are
 * pooled and the median is taken over all of them.
 */
const launches = quick ? 1 : 3;
const itersOf = (bytes: number) => (bytes >= 64 * MIB ? (quick ? 3 : 10) : quick ? 8 : 30);

type Variant = 'shm-zero-copy' | 'shm-pwrite' | 'tcp';

interface Row {
  variant: Variant;
  worldSize: number;
  kind: 'p2p' | 'allReduce';
  bytes: number;
  iters: number;
  /** Per-iteration milliseconds (rank 0, after a barrier before each iteration). */
  ms: number[];
  /** Zero-copy only: milliseconds per call in each step on rank 0, over `iters` extra calls. */
  steps?: ShmAllReduceProfile;
}

async function worker(): Promise<void> {
  const variant = process.argv[2] as Variant;
  const group = await initProcessGroup({
    transport: variant === 'tcp' ? 'tcp' : 'shm',
    timeoutMs: 120_000,
  });
  const { rank, worldSize } = group;
  if (variant === 'shm-zero-copy' && !(group.transport as ShmTransport).zeroCopy) {
    throw new Error(
      `zero-copy is off: ${(group.transport as ShmTransport).zeroCopyReason} (build the addon: node scripts/build-native.mjs)`,
    );
  }
  const rows: Row[] = [];
  for (const bytes of sizes) {
    const iters = itersOf(bytes);
    const buf = new Float32Array(bytes / 4).fill(rank + 1);
    if (worldSize === 2 && variant !== 'shm-zero-copy') {
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
    const want = (worldSize * (worldSize + 1)) / 2;
    const ms: number[] = [];
    for (let i = -1; i < iters; i++) {
      buf.fill(rank + 1);
      await group.barrier();
      const t = performance.now();
      const out = await group.allReduce(buf, 'sum');
      if (i >= 0) ms.push(performance.now() - t);
      if (out[0] !== want || out[out.length - 1] !== want) {
        throw new Error(`allReduce gave ${out[0]}, expected ${want}`);
      }
    }
    const row: Row = { variant, worldSize, kind: 'allReduce', bytes, iters, ms };
    const channel = zeroCopyChannelOf(group.transport);
    if (variant === 'shm-zero-copy' && channel !== undefined) {
      // The group's all-reduce is this very function; called directly to time its steps.
      const steps: ShmAllReduceProfile = { copyIn: 0, reduce: 0, copyOut: 0, wait: 0 };
      for (let i = 0; i < iters; i++) {
        buf.fill(rank + 1);
        await group.barrier();
        await shmAllReduce(channel, buf, 'sum', { profile: steps });
        if (buf[0] !== want) throw new Error(`shmAllReduce gave ${buf[0]}, expected ${want}`);
      }
      for (const k of Object.keys(steps) as (keyof ShmAllReduceProfile)[]) steps[k] /= iters;
      row.steps = steps;
    }
    rows.push(row);
  }
  if (rank === 0) for (const r of rows) console.log(`RESULT ${JSON.stringify(r)}`);
  await group.barrier();
  await group.destroy();
}

function run(variant: Variant, n: number): Promise<Row[]> {
  return launchRanks<Row>(fileURLToPath(import.meta.url), n, [variant], {
    ...process.env,
    PLEXUS_SHM_ZERO_COPY: variant === 'shm-pwrite' ? '0' : '1',
  });
}

function memcpy(): { bytes: number; ms: number[] }[] {
  return sizes.map((bytes) => {
    const src = new Uint8Array(bytes).fill(1);
    const dst = new Uint8Array(bytes);
    dst.set(src);
    const ms: number[] = [];
    for (let i = 0; i < itersOf(bytes); i++) {
      const t = performance.now();
      dst.set(src);
      ms.push(performance.now() - t);
    }
    return { bytes, ms };
  });
}

/**
 * The reduction alone, in one process: the addon's kernel (what the zero-copy
 * path runs on mapped memory) against the package's wasm SIMD reducer, which
 * can only work on its own linear memory and so stages both inputs through
 * it. `acc += src` on float32, per size.
 */
function reduction(): { bytes: number; nativeMs: number[]; wasmMs: number[] }[] {
  const native = loadNativeAddon().native;
  return sizes.map((bytes) => {
    const acc = new Float32Array(bytes / 4).fill(1);
    const src = new Float32Array(bytes / 4).fill(2);
    const nativeMs: number[] = [];
    const wasmMs: number[] = [];
    for (let i = -1; i < itersOf(bytes); i++) {
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const round = (x: number, d = 3) => Math.round(x * 10 ** d) / 10 ** d;

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const variants: Variant[] = process.argv.includes('--no-tcp')
    ? ['shm-zero-copy', 'shm-pwrite']
    : ['shm-zero-copy', 'shm-pwrite', 'tcp'];
  const rows: Row[] = [];
  const copiesBefore = memcpy();
  const reductions = reduction();
  for (let l = 0; l < launches; l++) {
    for (const n of [2, 4]) for (const v of variants) rows.push(...(await run(v, n)));
  }
  // One row per variant, world size, kind and size: iterations and step times pooled over launches.
  const pooled: Row[] = [];
  for (const r of rows) {
    const same = pooled.find(
      (p) =>
        p.variant === r.variant &&
        p.worldSize === r.worldSize &&
        p.kind === r.kind &&
        p.bytes === r.bytes,
    );
    if (same === undefined) {
      pooled.push({ ...r, ms: [...r.ms], steps: r.steps && { ...r.steps } });
      continue;
    }
    same.ms.push(...r.ms);
    same.iters += r.iters;
    if (same.steps !== undefined && r.steps !== undefined) {
      for (const k of Object.keys(r.steps) as (keyof ShmAllReduceProfile)[]) {
        same.steps[k] += r.steps[k];
      }
    }
  }
  for (const p of pooled) {
    if (p.steps === undefined) continue;
    for (const k of Object.keys(p.steps) as (keyof ShmAllReduceProfile)[]) p.steps[k] /= launches;
  }
  // memcpy before and after the runs: the machine's load may change in between.
  const copiesAfter = memcpy();
  const copies = sizes.map((bytes, i) => ({
    bytes,
    ms: [...copiesBefore[i]!.ms, ...copiesAfter[i]!.ms],
  }));
  const memcpyGBps = new Map(copies.map((c) => [c.bytes, c.bytes / median(c.ms) / 1e6]));
  const table = [
    ...copies.map((c) => ({
      what: 'memcpy (Uint8Array.set, one thread)',
      worldSize: 1,
      bytes: c.bytes,
      medianMs: round(median(c.ms)),
      algbwGBps: round(memcpyGBps.get(c.bytes)!),
      busbwGBps: null as number | null,
      busbwOverMemcpy: null as number | null,
      launchMedianMs: [] as number[],
      bestMs: round(Math.min(...c.ms)),
      bestBusbwOverMemcpy: null as number | null,
      stepsMs: undefined as ShmAllReduceProfile | undefined,
    })),
    ...pooled.map((r) => {
      const ms = median(r.ms);
      const algbw = r.bytes / ms / 1e6;
      const busbw = r.kind === 'allReduce' ? (algbw * 2 * (r.worldSize - 1)) / r.worldSize : null;
      return {
        what: `${r.kind} over ${r.variant}`,
        worldSize: r.worldSize,
        bytes: r.bytes,
        medianMs: round(ms),
        algbwGBps: round(algbw),
        busbwGBps: busbw === null ? null : round(busbw),
        busbwOverMemcpy: busbw === null ? null : round(busbw / memcpyGBps.get(r.bytes)!),
        launchMedianMs: rows
          .filter(
            (x) =>
              x.variant === r.variant &&
              x.worldSize === r.worldSize &&
              x.kind === r.kind &&
              x.bytes === r.bytes,
          )
          .map((x) => round(median(x.ms))),
        // The fastest iteration: what the path does when no other job takes its cores.
        bestMs: round(Math.min(...r.ms)),
        bestBusbwOverMemcpy:
          busbw === null
            ? null
            : round(
                ((r.bytes / Math.min(...r.ms) / 1e6) * 2 * (r.worldSize - 1)) /
                  r.worldSize /
                  (r.bytes / Math.min(...copies.find((c) => c.bytes === r.bytes)!.ms) / 1e6),
              ),
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
      `reduce acc += src (f32, ${r.bytes / MIB} MiB, one process): addon ${r.nativeMs} ms, wasm SIMD ${r.wasmMs} ms`,
    );
  }
  for (const t of table) {
    console.log(
      `${t.what.padEnd(36)} n=${t.worldSize} ${String(t.bytes / MIB).padStart(3)} MiB  ${t.medianMs.toFixed(2).padStart(8)} ms  algbw ${t.algbwGBps.toFixed(3)} GB/s${t.busbwGBps === null ? '' : `  busbw ${t.busbwGBps.toFixed(3)} GB/s = ${t.busbwOverMemcpy} x memcpy (best ${t.bestBusbwOverMemcpy}, launch medians ${t.launchMedianMs.join('/')} ms)`}${t.stepsMs ? `  steps ${JSON.stringify(t.stepsMs)}` : ''}`,
    );
  }
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    `${dir}allreduce-shm.json`,
    `${JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpu: cpus()[0]?.model,
        cpus: cpus().length,
        loadAverage: { before: loadBefore, after: loadavg()[0] },
        quick,
        launches,
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
