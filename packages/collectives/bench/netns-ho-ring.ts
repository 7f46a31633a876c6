// HO-Ring vs ring all-reduce (float32 sum) on a simulated two-host topology:
// two network namespaces ("hosts") of two ranks each, every rank a Node
// process on the TCP transport, the cross-host links shaped with tc (tbf)
// and nothing limited inside a host. Beside them, PyTorch Gloo's all-reduce
// (Debian /usr/bin/python3, bench/allreduce_gloo.py) on the same namespaces
// and links, and a plain-socket probe of what the shaped link delivers.
// Reported as nccl-tests do: time of the slowest rank, algbw = bytes / time,
// busbw = algbw * 2 (n - 1) / n. Needs root (see src/testing/netns.ts).
// Writes bench/results/netns-ho-ring.json.
//   npx tsx bench/netns-ho-ring.ts [--quick] [--rates 1000,200,0] [--no-gloo]   (0: unshaped)
import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createNetnsHosts, type NetnsHosts, netnsUnavailableReason } from '../src/testing/netns.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const withGloo = !argv.includes('--no-gloo');
const ratesArg = argv[argv.indexOf('--rates') + 1];
const rates = (argv.includes('--rates') && ratesArg ? ratesArg : '1000,200,0')
  .split(',')
  .map(Number);
const MIB = 1024 * 1024;
const sizes = quick ? [1 * MIB, 16 * MIB] : [1 * MIB, 4 * MIB, 16 * MIB, 64 * MIB];
const HOSTS = 2;
const RANKS_PER_HOST = 2;
const WORLD = HOSTS * RANKS_PER_HOST;
const hostOf = Array.from({ length: WORLD }, (_, r) => Math.floor(r / RANKS_PER_HOST));
const pkg = fileURLToPath(new URL('..', import.meta.url));
const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));
const PYTHON = '/usr/bin/python3';
const PAPER_GAIN = 0.365;

interface Row {
  algorithm?: string;
  bytes: number;
  iters: number;
  ms: number[];
  hostTxBytes?: number;
}

/** Runs one process per rank in its host's namespace; resolves to rank 0's RESULT rows. */
async function ranks(
  net: NetnsHosts,
  port: number,
  command: string,
  args: string[],
  env: Record<string, string>,
): Promise<Row[] | string> {
  const procs: ChildProcess[] = [];
  const outs = await Promise.all(
    Array.from({ length: WORLD }, (_, rank) => {
      const child = net.spawn(hostOf[rank]!, command, args, {
        cwd: pkg,
        env: {
          ...process.env,
          ...env,
          RANK: String(rank),
          WORLD_SIZE: String(WORLD),
          LOCAL_RANK: String(rank % RANKS_PER_HOST),
          LOCAL_WORLD_SIZE: String(RANKS_PER_HOST),
          MASTER_ADDR: net.hosts[0]!.address,
          MASTER_PORT: String(port),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      procs.push(child);
      const lines: string[] = [];
      let err = '';
      createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
      child.stderr!.on('data', (d) => {
        err += d;
      });
      return new Promise<{ code: number | null; lines: string[]; err: string }>((resolve) =>
        child.on('exit', (code) => resolve({ code, lines, err })),
      );
    }),
  );
  const bad = outs.find((o) => o.code !== 0);
  if (bad) return `exit ${bad.code}: ${bad.err.trim().split('\n').slice(-4).join(' | ')}`;
  return outs[0]!.lines
    .filter((l) => l.startsWith('RESULT '))
    .map((l) => JSON.parse(l.slice(7)) as Row);
}

/** Per-direction bytes/s a plain socket gets across the shaped link (both directions at once). */
async function probe(net: NetnsHosts, bytes: number) {
  const server = net.spawn(
    0,
    process.execPath,
    [
      '--import',
      'tsx',
      here('./netns-link-probe.ts'),
      'server',
      net.hosts[0]!.address,
      '29600',
      String(bytes),
    ],
    { cwd: pkg, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  const listening = new Promise<void>((resolve) =>
    createInterface({ input: server.stdout! }).on('line', (l) => {
      lines.push(l);
      if (l === 'listening') resolve();
    }),
  );
  await listening;
  const client = net.spawn(
    1,
    process.execPath,
    [
      '--import',
      'tsx',
      here('./netns-link-probe.ts'),
      'client',
      net.hosts[0]!.address,
      '29600',
      String(bytes),
    ],
    { cwd: pkg, stdio: 'ignore' },
  );
  // A probe that stalls must not hang the benchmark.
  const stall = setTimeout(() => {
    for (const p of [server, client]) p.kill('SIGKILL');
  }, 120_000);
  await Promise.all([server, client].map((p) => new Promise((r) => p.on('exit', r))));
  clearTimeout(stall);
  if (!lines.some((l) => l.startsWith('RESULT '))) return { bytes, error: 'the probe stalled' };
  const { ms } = JSON.parse(lines.find((l) => l.startsWith('RESULT '))!.slice(7)) as {
    ms: number[];
  };
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  return { bytes, ms, perDirectionMBs: Number((bytes / mean / 1e3).toFixed(1)) };
}

function metrics(row: Row | undefined) {
  if (!row) return undefined;
  const mean = row.ms.reduce((a, b) => a + b, 0) / row.ms.length;
  const sorted = [...row.ms].sort((a, b) => a - b);
  // Median beside the mean: one iteration can stall for a time slice on a loaded machine.
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const algbw = row.bytes / (mean / 1000) / 1e9;
  return {
    timeUs: Math.round(mean * 1000),
    medianTimeUs: Math.round(median * 1000),
    algbwGBs: Number(algbw.toFixed(4)),
    busbwGBs: Number(((algbw * 2 * (WORLD - 1)) / WORLD).toFixed(4)),
    iters: row.iters,
    msPerIter: row.ms.map((m) => Number(m.toFixed(1))),
    ...(row.hostTxBytes !== undefined
      ? {
          hostTxBytesPerAllReduce: row.hostTxBytes,
          hostTxOverBytes: Number((row.hostTxBytes / row.bytes).toFixed(3)),
        }
      : {}),
    meanMs: mean,
    medianMs: median,
  };
}

const reason = await netnsUnavailableReason();
if (reason) {
  console.error(`netns-ho-ring: cannot run: ${reason}`);
  process.exit(1);
}
const loadavgAtStart = loadavg();
const runs = [];
let port = 29_500;
for (const rateMbit of rates) {
  // Rate 0: no tc shaping at all (veth speed, bound by the CPUs).
  const net = await createNetnsHosts({
    hosts: HOSTS,
    ...(rateMbit > 0 ? { link: { rateMbit } } : {}),
  });
  try {
    process.stderr.write(`${rateMbit} Mbit/s: link probe ...\n`);
    const link = await probe(net, 32 * MIB);
    process.stderr.write(`${rateMbit} Mbit/s: plexus ring and HO-Ring ...\n`);
    const ours = await ranks(
      net,
      port++,
      process.execPath,
      [
        '--import',
        'tsx',
        here('./netns-ho-ring-worker.ts'),
        JSON.stringify(sizes),
        JSON.stringify(hostOf),
      ],
      {},
    );
    if (typeof ours === 'string') throw new Error(`plexus workers failed: ${ours}`);
    let theirs: Row[] | string = 'not run (--no-gloo)';
    if (withGloo) {
      process.stderr.write(`${rateMbit} Mbit/s: gloo ...\n`);
      theirs = await ranks(
        net,
        port++,
        PYTHON,
        [here('./allreduce_gloo.py'), JSON.stringify(sizes)],
        {
          GLOO_SOCKET_IFNAME: 'eth0',
          OMP_NUM_THREADS: '1',
        },
      );
    }
    const results = sizes.map((bytes) => {
      const ring = metrics(ours.find((r) => r.algorithm === 'ring' && r.bytes === bytes));
      const hoRing = metrics(ours.find((r) => r.algorithm === 'ho-ring' && r.bytes === bytes));
      const gloo =
        typeof theirs === 'string' ? theirs : metrics(theirs.find((r) => r.bytes === bytes));
      // Same bytes and n, so the algbw (and busbw) ratio is the inverse ratio of times.
      const hoRingGain =
        ring && hoRing ? Number((ring.meanMs / hoRing.meanMs - 1).toFixed(3)) : undefined;
      const medianHoRingGain =
        ring && hoRing ? Number((ring.medianMs / hoRing.medianMs - 1).toFixed(3)) : undefined;
      const row = { bytes, ring, hoRing, gloo, hoRingGain, medianHoRingGain };
      const fmt = (m: ReturnType<typeof metrics> | string) =>
        m && typeof m !== 'string'
          ? `${String(m.timeUs).padStart(9)} us ${m.busbwGBs.toFixed(3)} GB/s`
          : 'n/a';
      console.log(
        `${rateMbit} Mbit/s ${String(bytes / MIB).padStart(3)} MiB  ring ${fmt(ring)}  ho-ring ${fmt(hoRing)}  gain ${hoRingGain} (medians ${medianHoRingGain})  gloo ${fmt(gloo)}`,
      );
      return row;
    });
    runs.push({
      crossHostRateMbit: rateMbit,
      linkProbe: link,
      gloo: typeof theirs === 'string' ? theirs : 'ok',
      results,
    });
  } finally {
    await net.close();
  }
}

mkdirSync(here('./results'), { recursive: true });
writeFileSync(
  here('./results/netns-ho-ring.json'),
  `${JSON.stringify(
    {
      benchmark:
        'all-reduce float32 sum, 2 network-namespace hosts x 2 ranks (one Node process per rank, TCP transport), cross-host links shaped with tc tbf, unlimited inside a host',
      definitions:
        'time: per iteration, slowest rank, mean over iterations; algbw = bytes / time; busbw = algbw * 2 (n - 1) / n with n = 4 (nccl-tests); hoRingGain = ring time / HO-Ring time - 1 (= algbw gain), medianHoRingGain the same on median times; hostTxBytesPerAllReduce: bytes one host sent on its link during one all-reduce; linkProbe: one plain socket each way at once across the shaped link',
      paperClaim: {
        source:
          'Rethinking Memory and Communication Cost for Efficient Large Language Model Training (Wu et al., PaRO / HO-Ring, 2023)',
        hoRingGainOverRing: PAPER_GAIN,
      },
      topology: { hosts: HOSTS, ranksPerHost: RANKS_PER_HOST, hostOf },
      peer: 'PyTorch Gloo (torch.distributed, Debian /usr/bin/python3), 1 intra-op thread, same namespaces and links',
      quick,
      node: process.version,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      date: new Date().toISOString(),
      loadavgAtStart,
      loadavgAtEnd: loadavg(),
      runs,
    },
    null,
    2,
  )}\n`,
);
