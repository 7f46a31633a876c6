// All-reduce (float32 sum) over the TCP transport between separate Node.js
// processes on loopback, beside PyTorch's Gloo backend on the same sizes and
// world sizes, reported as nccl-tests do: time, algorithm bandwidth
// (bytes / time) and bus bandwidth (algbw * 2 (n - 1) / n), with and
// without the transport's CRC32, and a plain Node.js socket exchange as the floor.
// Ours and Gloo alternate for several rounds (PLEXUS_BENCH_ROUNDS).
// Writes bench/results/allreduce-tcp.json.
//   npx tsx bench/allreduce-tcp.ts [--quick]
// For a run elsewhere (the GPU machine's CPUs: this file and the worker each
// bundled with esbuild, beside allreduce_gloo.py and raw-socket-exchange.mjs,
// the addon in <repo>/native/build): PLEXUS_BENCH_WORKER (the worker script), PLEXUS_BENCH_PYTHON
// (a python3 with torch), PLEXUS_BENCH_WORLD_SIZES / PLEXUS_BENCH_SIZES (JSON
// arrays), PLEXUS_BENCH_OUT (the JSON written) and PLEXUS_BENCH_MACHINE (its name there);
// PLEXUS_BENCH_CHUNK_BYTES sets the ring's chunk size (collectives.chunkBytes) anywhere.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { switchedOff } from '../src/env-switch.js';
import { freePort } from '../src/launcher/launch.js';
import { TCP_NATIVE_RING_ENV } from '../src/transport/tcp/tcp-transport.js';
import { runGloo } from './gloo-peer.js';
import { launchRanks, resultLines } from './launch-ranks.js';

const quick = process.argv.includes('--quick');
const KIB = 1024;
const MIB = 1024 * KIB;
const jsonEnv = (name: string): number[] | undefined =>
  process.env[name] ? (JSON.parse(process.env[name]!) as number[]) : undefined;
const sizes =
  jsonEnv('PLEXUS_BENCH_SIZES') ??
  (quick
    ? [4 * KIB, 1 * MIB, 16 * MIB]
    : [4 * KIB, 64 * KIB, 1 * MIB, 4 * MIB, 16 * MIB, 64 * MIB, 256 * MIB]);
const worldSizes = jsonEnv('PLEXUS_BENCH_WORLD_SIZES') ?? [2, 4];
/** Alternating rounds of ours and Gloo per world size (PLEXUS_BENCH_ROUNDS, default 5). */
const rounds = Math.max(1, Number(process.env.PLEXUS_BENCH_ROUNDS ?? (quick ? '1' : '5')));
/** Connections per peer pair: PLEXUS_BENCH_CONNECTIONS, else the transport's default (1 on loopback). */
const connectionsPerPeer = process.env.PLEXUS_BENCH_CONNECTIONS ?? 'default';
/**
 * PLEXUS_BENCH_EXTRAS=0 skips the plain-socket baseline and the runs without
 * CRC32 and on Node's sockets (their columns are then absent): for variant
 * runs on a lent machine, where minutes are scarce.
 */
const extras = process.env.PLEXUS_BENCH_EXTRAS !== '0';
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const PYTHON = process.env.PLEXUS_BENCH_PYTHON ?? '/usr/bin/python3';
const WORKER = process.env.PLEXUS_BENCH_WORKER ?? here('./allreduce-tcp-worker.ts');
const OUT = process.env.PLEXUS_BENCH_OUT ?? here('./results/allreduce-tcp.json');

interface Row {
  bytes: number;
  iters: number;
  /** nccl-tests' time: a timed loop of `iters` calls / `iters`, averaged over ranks; one per loop. */
  ms: number[];
  /** The slowest rank's time of each single iteration (absent from the socket baseline). */
  slowestMs?: number[];
  /** Whether the TCP transport's native I/O threads carried the data (plexus rows). */
  nativeIo?: boolean;
  /** The peer's PyTorch version (Gloo rows). */
  torch?: string;
}

/** Our ranks; `jsSockets` keeps the data on Node's sockets (PLEXUS_TCP_NATIVE=0). */
function plexus(n: number, checksum: boolean, jsSockets = false): Promise<Row[]> {
  return launchRanks<Row>(
    WORKER,
    n,
    [JSON.stringify(sizes), connectionsPerPeer, checksum ? 'checksum' : 'no-checksum'],
    jsSockets ? { ...process.env, PLEXUS_TCP_NATIVE: '0' } : undefined,
  );
}

/** Gloo on the same sizes (rank 0's rows, or why it failed). */
const gloo = (n: number): Promise<Row[] | string> => runGloo(PYTHON, n, sizes);

/** Two processes exchanging each size over one plain socket (see raw-socket-exchange.mjs). */
async function rawSocket(): Promise<Row[]> {
  const port = await freePort();
  const big = sizes.filter((b) => b >= 1 * MIB);
  const start = (rank: number) =>
    spawn(
      process.execPath,
      [here('./raw-socket-exchange.mjs'), String(rank), String(port), JSON.stringify(big)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
  const server = start(0);
  let out = '';
  await new Promise<void>((resolve) => {
    server.stdout.on('data', (d) => {
      out += d;
      if (out.includes('listening')) resolve();
    });
  });
  const client = start(1);
  client.stdout.resume();
  await Promise.all([server, client].map((p) => new Promise((r) => p.on('close', r))));
  return resultLines<Row>(out);
}

/** The per-iteration samples of two runs, size by size. */
function pool(a: Row[], b: Row[]): Row[] {
  return a.map((r) => {
    const other = b.find((x) => x.bytes === r.bytes);
    const ms = other ? [...r.ms, ...other.ms] : r.ms;
    const slowestMs = [...(r.slowestMs ?? []), ...(other?.slowestMs ?? [])];
    // Native I/O only if every pooled run had it (dropping this reported false for all pooled rows).
    const nativeIo = r.nativeIo === true && (other === undefined || other.nativeIo === true);
    return { bytes: r.bytes, iters: r.iters, ms, slowestMs, nativeIo };
  });
}

const meanOf = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function metrics(row: Row | undefined, n: number) {
  if (!row) return undefined;
  const mean = meanOf(row.ms);
  const slowest = row.slowestMs?.length ? meanOf(row.slowestMs) : undefined;
  const sorted = [...row.ms].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const algbw = row.bytes / (mean / 1000) / 1e9;
  const busbw = (algbw * 2 * (n - 1)) / n;
  const medianBusbw = ((row.bytes / (median / 1000) / 1e9) * 2 * (n - 1)) / n;
  return {
    timeUs: Math.round(mean * 1000),
    algbwGBs: Number(algbw.toFixed(3)),
    busbwGBs: Number(busbw.toFixed(3)),
    medianTimeUs: Math.round(median * 1000),
    medianBusbwGBs: Number(medianBusbw.toFixed(3)),
    itersPerLoop: row.iters,
    loops: row.ms.length,
    /** Mean over iterations of the slowest rank's time of each (stricter than nccl-tests). */
    slowestRankTimeUs: slowest === undefined ? undefined : Math.round(slowest * 1000),
    meanMs: mean,
    medianMs: median,
    slowestMs: slowest,
  };
}

const loadavgAtStart = loadavg();
if (extras) process.stderr.write('plain Node.js socket exchange baseline ...\n');
const raw = extras ? await rawSocket() : [];
const socketBaseline = raw.map((r) => ({
  bytes: r.bytes,
  exchangeTimeUs: Math.round(meanOf(r.ms) * 1000),
  // The bytes each process sends (and receives) per second during the exchange.
  perDirectionGBs: Number((r.bytes / (meanOf(r.ms) / 1000) / 1e9).toFixed(3)),
}));
for (const b of socketBaseline) {
  console.log(
    `plain socket exchange ${String(b.bytes).padStart(9)} B: ${b.exchangeTimeUs} us, ${b.perDirectionGBs} GB/s per direction`,
  );
}
const results = [];
let torchVersion: string | undefined;
let oursNoCrc: Row[] = [];
let oursJs: Row[] = [];
for (const n of worldSizes) {
  // Ours and Gloo alternate (A B A B ...) for `rounds` rounds and each side's
  // samples are pooled, so a burst of load on this shared machine hits both
  // rather than one; the ratio of each round is kept too (machine speed drifts
  // by up to 1.5x between minutes here, for Gloo as for us).
  const oursRounds: Row[][] = [];
  const glooRounds: (Row[] | string)[] = [];
  for (let round = 1; round <= rounds; round++) {
    process.stderr.write(`world size ${n}: plexus over TCP (round ${round}/${rounds}) ...\n`);
    oursRounds.push(await plexus(n, true));
    process.stderr.write(`world size ${n}: gloo (round ${round}/${rounds}) ...\n`);
    glooRounds.push(await gloo(n));
    if (round === 1 && extras) {
      process.stderr.write(`world size ${n}: plexus over TCP without CRC32 ...\n`);
      oursNoCrc = await plexus(n, false);
      process.stderr.write(
        `world size ${n}: plexus over TCP on Node's sockets (no native I/O) ...\n`,
      );
      oursJs = await plexus(n, true, true);
    }
  }
  const ours = oursRounds.reduce(pool);
  const glooFailure = glooRounds.find((g): g is string => typeof g === 'string');
  const theirs = glooFailure ?? (glooRounds as Row[][]).reduce(pool);
  torchVersion ??= (glooRounds.find((g) => typeof g !== 'string') as Row[] | undefined)?.[0]?.torch;
  for (const bytes of sizes) {
    const p = metrics(
      ours.find((r) => r.bytes === bytes),
      n,
    );
    const q = metrics(
      oursNoCrc.find((r) => r.bytes === bytes),
      n,
    );
    const js = metrics(
      oursJs.find((r) => r.bytes === bytes),
      n,
    );
    const g =
      typeof theirs === 'string'
        ? undefined
        : metrics(
            theirs.find((r) => r.bytes === bytes),
            n,
          );
    const row = {
      worldSize: n,
      bytes,
      plexus: p,
      nativeIo: ours.find((r) => r.bytes === bytes)?.nativeIo ?? false,
      plexusWithoutChecksum: q,
      plexusOnNodeSockets: js,
      gloo: g ?? (typeof theirs === 'string' ? theirs : undefined),
      // Same bytes and n on both sides, so the busbw ratio is the inverse ratio of times.
      busbwRatio: p && g ? Number((g.meanMs / p.meanMs).toFixed(3)) : undefined,
      medianBusbwRatio: p && g ? Number((g.medianMs / p.medianMs).toFixed(3)) : undefined,
      slowestRankBusbwRatio:
        p?.slowestMs && g?.slowestMs ? Number((g.slowestMs / p.slowestMs).toFixed(3)) : undefined,
      busbwRatioWithoutChecksum: q && g ? Number((g.meanMs / q.meanMs).toFixed(3)) : undefined,
      busbwRatioOnNodeSockets: js && g ? Number((g.meanMs / js.meanMs).toFixed(3)) : undefined,
      // Gloo's mean time over ours, round by round (each pair run back to back).
      roundRatios:
        glooFailure === undefined
          ? oursRounds.map((o, i) => {
              const mo = metrics(
                o.find((r) => r.bytes === bytes),
                n,
              );
              const mg = metrics(
                (glooRounds[i] as Row[]).find((r) => r.bytes === bytes),
                n,
              );
              return mo && mg ? Number((mg.meanMs / mo.meanMs).toFixed(3)) : undefined;
            })
          : undefined,
    };
    results.push(row);
    const fmt = (m: typeof p) =>
      m
        ? `${String(m.timeUs).padStart(9)} us ${m.busbwGBs.toFixed(3).padStart(7)} GB/s`
        : '       n/a';
    console.log(
      `n=${n} ${String(bytes).padStart(9)} B  plexus ${fmt(p)}  no-crc ${fmt(q)}  node sockets ${fmt(js)}  gloo ${fmt(g)}  busbw ratio ${row.busbwRatio ?? 'n/a'} (slowest rank per iteration ${row.slowestRankBusbwRatio ?? 'n/a'}; rounds ${row.roundRatios?.join(' ') ?? 'n/a'}; no crc ${row.busbwRatioWithoutChecksum ?? 'n/a'}, node sockets ${row.busbwRatioOnNodeSockets ?? 'n/a'})`,
    );
  }
}

mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(
  OUT,
  `${JSON.stringify(
    {
      benchmark: 'all-reduce float32 sum, TCP loopback, separate processes',
      definitions:
        "time as nccl-tests' all_reduce_perf: after a barrier each rank times a loop of itersPerLoop back-to-back all-reduces and divides by itersPerLoop, averaged over ranks; loops such loops per run, pooled over rounds (mean, median beside it); algbw = bytes / time; busbw = algbw * 2 (n - 1) / n; ratio = plexus busbw / gloo busbw; roundRatios: the same ratio for each back-to-back round; slowestRankTimeUs / slowestRankBusbwRatio: the mean over iterations of the slowest rank's time of each single iteration (stricter; what this benchmark reported before 2026-11-26 16:40 UTC)",
      peer: `PyTorch ${torchVersion ?? '(version not reported)'} Gloo (torch.distributed, ${PYTHON}), 1 intra-op thread`,
      plexus: {
        connectionsPerPeer:
          connectionsPerPeer === 'default'
            ? 'the default: 1 on a loopback address'
            : Number(connectionsPerPeer),
        algorithm: 'auto',
        ring: switchedOff(TCP_NATIVE_RING_ENV)
          ? 'JavaScript ring (PLEXUS_TCP_NATIVE_RING=0)'
          : 'in the native I/O threads (native/ring_op.h) where nativeIo',
        checksum: 'CRC32 on every data frame (plexusWithoutChecksum: checksum: false)',
        io: 'native I/O threads of the addon (nativeIo per row); plexusOnNodeSockets: PLEXUS_TCP_NATIVE=0, the JavaScript socket path',
        ringChunkBytes: process.env.PLEXUS_BENCH_CHUNK_BYTES
          ? Number(process.env.PLEXUS_BENCH_CHUNK_BYTES)
          : 'the default (RING_CHUNK_BYTES, 4 MiB)',
      },
      quick,
      rounds,
      node: process.version,
      machine: process.env.PLEXUS_BENCH_MACHINE ?? 'the 2-core build machine',
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      date: new Date().toISOString(),
      // This benchmark is sensitive to CPU contention (4 ranks on a 2-core machine are CPU-bound).
      loadavgAtStart,
      loadavgAtEnd: loadavg(),
      socketBaseline,
      results,
    },
    null,
    2,
  )}\n`,
);
