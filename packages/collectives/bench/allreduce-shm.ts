// Shared memory vs TCP loopback between Node.js processes on one host, and an
// in-process memcpy as the ceiling: one-way point-to-point bandwidth
// (rank 0 sends, rank 1 receives) and all-reduce (float32 sum, ring/auto)
// algorithm and bus bandwidth (algbw * 2 (n - 1) / n, as nccl-tests report
// it) at 4 and 64 MiB, over `initProcessGroup({ transport })`.
// Writes bench/results/allreduce-shm.json.
//   npx tsx bench/allreduce-shm.ts [--quick]
// The same file is the worker: plexus-run starts it with RANK set.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { initProcessGroup } from '../src/index.js';
import { launch } from '../src/launcher/launch.js';

const MIB = 1 << 20;
const quick = process.argv.includes('--quick');
const sizes = [4 * MIB, 64 * MIB];
const itersOf = (bytes: number) => (bytes >= 64 * MIB ? (quick ? 2 : 4) : quick ? 5 : 12);

interface Row {
  transport: string;
  worldSize: number;
  kind: 'p2p' | 'allReduce';
  bytes: number;
  iters: number;
  /** Per-iteration milliseconds (rank 0, after a barrier before each iteration). */
  ms: number[];
}

async function worker(): Promise<void> {
  const transport = process.argv[2] as 'shm' | 'tcp';
  const group = await initProcessGroup({ transport, timeoutMs: 120_000 });
  const { rank, worldSize } = group;
  const rows: Row[] = [];
  for (const bytes of sizes) {
    const iters = itersOf(bytes);
    const buf = new Float32Array(bytes / 4).fill(rank + 1);
    if (worldSize === 2) {
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
      rows.push({ transport, worldSize, kind: 'p2p', bytes, iters, ms });
    }
    const ms: number[] = [];
    for (let i = -1; i < iters; i++) {
      buf.fill(rank + 1);
      await group.barrier();
      const t = performance.now();
      const out = await group.allReduce(buf, 'sum');
      if (i >= 0) ms.push(performance.now() - t);
      const want = (worldSize * (worldSize + 1)) / 2;
      if (out[0] !== want || out[out.length - 1] !== want) {
        throw new Error(`allReduce gave ${out[0]}, expected ${want}`);
      }
    }
    rows.push({ transport, worldSize, kind: 'allReduce', bytes, iters, ms });
  }
  if (rank === 0) for (const r of rows) console.log(`RESULT ${JSON.stringify(r)}`);
  await group.barrier();
  await group.destroy();
}

async function run(transport: 'shm' | 'tcp', n: number): Promise<Row[]> {
  let out = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      out += chunk;
      cb();
    },
  });
  const result = await launch(
    {
      nproc: n,
      masterAddr: '127.0.0.1',
      masterPort: undefined,
      prefix: true,
      script: fileURLToPath(import.meta.url),
      scriptArgs: [transport],
    },
    { stdout: sink, execArgv: ['--import', 'tsx'], forwardSignals: false },
  );
  if (result.exitCode !== 0) throw new Error(`${transport} workers failed:\n${out}`);
  return out
    .split('\n')
    .filter((l) => l.includes('RESULT '))
    .map((l) => JSON.parse(l.slice(l.indexOf('RESULT ') + 7)) as Row);
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

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

async function main(): Promise<void> {
  const loadBefore = loadavg()[0]!;
  const copies = memcpy();
  const rows: Row[] = [];
  for (const n of [2, 4]) for (const t of ['shm', 'tcp'] as const) rows.push(...(await run(t, n)));
  const table = [
    ...copies.map((c) => ({
      what: 'memcpy (Uint8Array.set, one process)',
      worldSize: 1,
      bytes: c.bytes,
      medianMs: median(c.ms),
      algbwGBps: c.bytes / median(c.ms) / 1e6,
      busbwGBps: null as number | null,
    })),
    ...rows.map((r) => {
      const ms = median(r.ms);
      const algbw = r.bytes / ms / 1e6;
      return {
        what: `${r.kind} over ${r.transport}`,
        worldSize: r.worldSize,
        bytes: r.bytes,
        medianMs: ms,
        algbwGBps: algbw,
        busbwGBps: r.kind === 'allReduce' ? (algbw * 2 * (r.worldSize - 1)) / r.worldSize : null,
      };
    }),
  ];
  for (const t of table) {
    console.log(
      `${t.what.padEnd(40)} n=${t.worldSize} ${String(t.bytes / MIB).padStart(3)} MiB  ${t.medianMs.toFixed(2).padStart(9)} ms  algbw ${t.algbwGBps.toFixed(3)} GB/s${t.busbwGBps === null ? '' : `  busbw ${t.busbwGBps.toFixed(3)} GB/s`}`,
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
        cpus: cpus().length,
        loadAverage: { before: loadBefore, after: loadavg()[0] },
        quick,
        table,
        raw: { memcpy: copies, rows },
      },
      null,
      2,
    )}\n`,
  );
}

if (process.env.RANK !== undefined) await worker();
else await main();
