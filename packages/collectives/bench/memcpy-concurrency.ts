// How a single-thread memcpy's bandwidth scales when several processes copy
// at once on this machine: the ceiling under the shared-memory all-reduce
// when its ranks' copies compete for the cores and the memory. k processes
// (1, 2 and 4) each copy 64 MiB with Uint8Array.set (the memcpy reference of
// bench/allreduce-shm.ts), started together, 30 times; the aggregate is all
// the bytes copied over the time from the first start to the last end,
// reported beside one process's. Rounds
// alternate the process counts (1, 2, 4, 1, 2, 4, ...) so drift hits all.
// Writes bench/results/memcpy-concurrency.json (PLEXUS_BENCH_OUT elsewhere).
//   npx tsx bench/memcpy-concurrency.ts      (PLEXUS_BENCH_ROUNDS, default 3; about 20 s)
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machineFields } from './machine.js';

const BYTES = 64 << 20;
const COPIES = 30;
const PROCESSES = [1, 2, 4];
const rounds = Number(process.env.PLEXUS_BENCH_ROUNDS ?? 3);
const OUT =
  process.env.PLEXUS_BENCH_OUT ??
  fileURLToPath(new URL('./results/memcpy-concurrency.json', import.meta.url));

/** A child: waits for 'go', copies, reports when it started and ended (ms since the epoch). */
function child(): void {
  const src = new Uint8Array(BYTES).fill(1);
  const dst = new Uint8Array(BYTES);
  dst.set(src); // touch every page first
  process.send!('ready');
  process.once('message', () => {
    const start = performance.timeOrigin + performance.now();
    for (let i = 0; i < COPIES; i++) dst.set(src);
    process.send!({ start, end: performance.timeOrigin + performance.now() });
    process.disconnect();
  });
}

interface Span {
  start: number;
  end: number;
}

/** Starts k copying processes together; when each copied. */
async function together(k: number): Promise<Span[]> {
  const kids = Array.from({ length: k }, () =>
    fork(fileURLToPath(import.meta.url), ['--child'], { execArgv: process.execArgv }),
  );
  await Promise.all(kids.map((c) => new Promise((r) => c.once('message', r))));
  const results = kids.map((c) => new Promise<Span>((r) => c.once('message', (m: Span) => r(m))));
  for (const c of kids) c.send('go');
  const spans = await Promise.all(results);
  await Promise.all(
    kids.map((c) => new Promise((r) => (c.exitCode !== null ? r(0) : c.once('exit', r)))),
  );
  return spans;
}

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const samples: {
    processes: number;
    round: number;
    aggregateGBs: number;
    perProcessGBs: number[];
  }[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const k of PROCESSES) {
      const spans = await together(k);
      const wall = Math.max(...spans.map((x) => x.end)) - Math.min(...spans.map((x) => x.start));
      const aggregateGBs = (k * COPIES * BYTES) / (wall / 1000) / 1e9;
      const perProcessGBs = spans.map((x) => (COPIES * BYTES) / ((x.end - x.start) / 1000) / 1e9);
      samples.push({ processes: k, round, aggregateGBs, perProcessGBs });
      console.log(
        `round ${round}: ${k} process(es) copying 64 MiB at once: ${aggregateGBs.toFixed(2)} GB/s in all (each over its own span: ${perProcessGBs.map((x) => x.toFixed(2)).join(', ')})`,
      );
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
  const aggregate = (k: number) =>
    median(samples.filter((s) => s.processes === k).map((s) => s.aggregateGBs));
  const one = aggregate(1);
  const table = PROCESSES.map((k) => ({
    processes: k,
    aggregateGBs: Number(aggregate(k).toFixed(3)),
    aggregateOverOneProcess: Number((aggregate(k) / one).toFixed(3)),
  }));
  for (const r of table) {
    console.log(
      `${r.processes} process(es): ${r.aggregateGBs} GB/s in all, ${r.aggregateOverOneProcess}x one process`,
    );
  }
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    `${JSON.stringify(
      {
        benchmark: 'memcpy (Uint8Array.set, 64 MiB) in k processes at once',
        definitions: `each of k processes copies 64 MiB ${COPIES} times after a common start; aggregateGBs = k * ${COPIES} * 64 MiB / (last end - first start); perProcessGBs = one process's bytes over its own span; medians over ${rounds} rounds`,
        ...machineFields(loadBefore),
        table,
        raw: samples,
      },
      null,
      2,
    )}\n`,
  );
}

if (process.argv.includes('--child')) child();
else await main();
