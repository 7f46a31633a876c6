// Benchmark: @plexus/vector-index against hnswlib-node in one process, on
// seeded Gaussian-mixture data (ann-benchmarks convention: recall@10 and
// single-thread queries per second for several efSearch values).
//
//   pnpm bench                       # 100,000 x 128, 1,000 queries
//   BENCH_N=20000 BENCH_Q=300 pnpm bench   # a quick run
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { HnswIndex } from '../src/index.js';
import { groundTruth, mixture } from './data.js';
import { type HnswlibIndex, hnswlibModelBytes, loadHnswlib } from './hnswlib-peer.js';
import { recallQpsSvg } from './plot.js';

const N = Number(process.env.BENCH_N ?? 100_000);
const Q = Number(process.env.BENCH_Q ?? 1_000);
const DIM = 128;
const K = 10;
const M = 16;
const EF_CONSTRUCTION = 200;
const EFS = [10, 20, 40, 80, 160, 320];
const SPEC = { n: N, queries: Q, dim: DIM, clusters: 100, seed: 42, spread: 0.65 };

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
const rss = (): number => {
  gc();
  gc();
  return process.memoryUsage().rss;
};
const seconds = (ms: number): number => Math.round(ms) / 1000;
const log = (s: string): void => console.log(s);

interface Point {
  ef: number;
  recall: number;
  qps: number;
}

function recallOf(results: ArrayLike<number>[], truth: Int32Array): number {
  let hit = 0;
  results.forEach((r, q) => {
    const t = new Set(truth.subarray(q * K, (q + 1) * K));
    for (let i = 0; i < r.length; i++) if (t.has(r[i]!)) hit++;
  });
  return hit / (results.length * K);
}

/** CPU seconds of this process (user + system): less sensitive than wall time to other load. */
const cpuNow = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

type Searcher = (q: number, ef: number) => ArrayLike<number>;

/**
 * For each efSearch, alternate timed passes of every library over all queries
 * and keep each one's best of three (ann-benchmarks keeps the best run).
 * Alternating makes both sides see the same background load.
 */
function sweep(searchers: Searcher[], truth: Int32Array): { wall: Point[]; cpuQps: number[] }[] {
  for (const search of searchers) for (let q = 0; q < Math.min(Q, 200); q++) search(q, 40);
  const out = searchers.map(() => ({ wall: [] as Point[], cpuQps: [] as number[] }));
  for (const ef of EFS) {
    const best = searchers.map(() => ({
      wall: Number.POSITIVE_INFINITY,
      cpu: Number.POSITIVE_INFINITY,
    }));
    const results: ArrayLike<number>[][] = searchers.map(() => []);
    for (let run = 0; run < 3; run++) {
      searchers.forEach((search, s) => {
        const res: ArrayLike<number>[] = [];
        const c = cpuNow();
        const t = performance.now();
        for (let q = 0; q < Q; q++) res.push(search(q, ef));
        const wall = performance.now() - t;
        const cpu = cpuNow() - c;
        const b = best[s]!;
        b.wall = Math.min(b.wall, wall);
        b.cpu = Math.min(b.cpu, cpu);
        results[s] = res;
      });
    }
    searchers.forEach((_, s) => {
      out[s]!.wall.push({
        ef,
        recall: recallOf(results[s]!, truth),
        qps: (Q / best[s]!.wall) * 1000,
      });
      out[s]!.cpuQps.push(Q / best[s]!.cpu);
    });
  }
  return out;
}

/** QPS at a target recall, interpolated on log(QPS) between the sweep points around it. */
function qpsAtRecall(points: Point[], target: number): number | null {
  for (let i = 1; i < points.length; i++) {
    const a = points[i - 1]!;
    const b = points[i]!;
    if (a.recall <= target && b.recall >= target) {
      const t = b.recall === a.recall ? 0 : (target - a.recall) / (b.recall - a.recall);
      return Math.exp(Math.log(a.qps) + t * (Math.log(b.qps) - Math.log(a.qps)));
    }
  }
  if (points[0] && points[0].recall >= target) return points[0].qps;
  return null;
}

log(
  `data: ${N} x ${DIM} from ${SPEC.clusters} Gaussian clusters (seed ${SPEC.seed}), ${Q} queries`,
);
const { base, queries } = mixture(SPEC);
let t0 = performance.now();
const truth = groundTruth(SPEC, base, queries, K);
log(`ground truth (brute force, cached in bench/.tmp): ${seconds(performance.now() - t0)} s`);
const queryRows = Array.from({ length: Q }, (_, q) => queries.subarray(q * DIM, (q + 1) * DIM));
const labels = Array.from({ length: N }, (_, i) => i);

// --- hnswlib-node ---------------------------------------------------------
const peer = loadHnswlib();
let hnswlib: {
  buildSeconds: number;
  buildCpuSeconds: number;
  rssBytes: number;
  modelBytes: number;
  points: Point[];
  cpuQps: number[];
} | null = null;
let hnswlibSearch: Searcher | null = null;
if (!peer.ok) {
  log(`hnswlib-node could not be loaded, skipping its side: ${peer.reason}`);
  log(
    '  (build it with node-gyp: pnpm-workspace.yaml onlyBuiltDependencies must list hnswlib-node)',
  );
} else {
  // Conversion to number[] (what the binding takes) happens outside the timings.
  const baseArrays = labels.map((i) => Array.from(base.subarray(i * DIM, (i + 1) * DIM)));
  const queryArrays = queryRows.map((q) => Array.from(q));
  const before = rss();
  const h: HnswlibIndex = peer.create(DIM);
  h.initIndex(N, M, EF_CONSTRUCTION, 100);
  t0 = performance.now();
  const c0 = cpuNow();
  for (let i = 0; i < N; i++) h.addPoint(baseArrays[i]!, i);
  const buildSeconds = seconds(performance.now() - t0);
  const buildCpuSeconds = cpuNow() - c0;
  const rssBytes = rss() - before;
  log(
    `hnswlib-node build: ${buildSeconds} s (CPU ${buildCpuSeconds.toFixed(1)} s), RSS +${(rssBytes / 2 ** 20).toFixed(1)} MiB`,
  );
  hnswlibSearch = (q, ef) => {
    h.setEf(ef);
    return h.searchKnn(queryArrays[q]!, K).neighbors;
  };
  hnswlib = {
    buildSeconds,
    buildCpuSeconds,
    rssBytes,
    modelBytes: hnswlibModelBytes(N, DIM, M),
    points: [],
    cpuQps: [],
  };
}

// --- @plexus/vector-index ---------------------------------------------------
const before = rss();
const ours = new HnswIndex({ dim: DIM, M, efConstruction: EF_CONSTRUCTION, capacity: N });
t0 = performance.now();
const oursC0 = cpuNow();
ours.addBatch(labels, base);
const oursBuild = seconds(performance.now() - t0);
const oursBuildCpu = cpuNow() - oursC0;
const oursRss = rss() - before;
log(
  `@plexus/vector-index build (1 thread, ${ours.kernel} kernel): ${oursBuild} s (CPU ${oursBuildCpu.toFixed(1)} s), RSS +${(oursRss / 2 ** 20).toFixed(1)} MiB, byteLength ${(ours.byteLength / 2 ** 20).toFixed(1)} MiB`,
);
const oursSearch: Searcher = (q, ef) => ours.search(queryRows[q]!, K, { efSearch: ef }).labels;
const swept = sweep(hnswlibSearch ? [oursSearch, hnswlibSearch] : [oursSearch], truth);
const oursPoints = swept[0]!.wall;
const oursCpuQps = swept[0]!.cpuQps;
if (hnswlib && swept[1]) {
  hnswlib.points = swept[1].wall;
  hnswlib.cpuQps = swept[1].cpuQps;
}

t0 = performance.now();
const bytes = ours.toBytes();
const saveSeconds = seconds(performance.now() - t0);
t0 = performance.now();
HnswIndex.fromBytes(bytes, { dim: DIM });
const loadSeconds = seconds(performance.now() - t0);

const threads = availableParallelism();
const par = new HnswIndex({ dim: DIM, M, efConstruction: EF_CONSTRUCTION, capacity: N });
t0 = performance.now();
await par.addBatchParallel(labels, base, { threads });
const parBuild = seconds(performance.now() - t0);
const parRecall = recallOf(
  queryRows.map((q) => par.search(q, K, { efSearch: 40 }).labels),
  truth,
);
const oursRecall40 = oursPoints.find((p) => p.ef === 40)!.recall;
log(
  `parallel build (${threads} threads): ${parBuild} s, recall@10 at ef 40: ${parRecall.toFixed(4)} (1-thread build: ${oursRecall40.toFixed(4)})`,
);

// --- memory, each library alone in a fresh process ----------------------------
/** RSS growth of building one library's index in a child process, or null when skipped. */
function childRss(lib: 'ours' | 'hnswlib'): number | null {
  if (process.env.BENCH_MEMORY === '0' || (lib === 'hnswlib' && !peer.ok)) return null;
  const script = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
  const params = JSON.stringify({ n: N, dim: DIM, M, efConstruction: EF_CONSTRUCTION });
  const out = execFileSync(
    process.execPath,
    ['--import', 'tsx', script, lib, vectorsFile, params],
    {
      encoding: 'utf8',
      maxBuffer: 1 << 20,
    },
  );
  return (JSON.parse(out.trim().split('\n').pop()!) as { rssBytes: number }).rssBytes;
}
const vectorsFile = fileURLToPath(new URL(`./.tmp/base-${N}-${SPEC.seed}.f32`, import.meta.url));
writeFileSync(vectorsFile, base);
const childRssOurs = childRss('ours');
const childRssHnswlib = childRss('hnswlib');
if (childRssOurs !== null) {
  log(
    `memory (RSS growth, fresh process each): ours ${(childRssOurs / 2 ** 20).toFixed(1)} MiB, hnswlib ${childRssHnswlib === null ? '-' : (childRssHnswlib / 2 ** 20).toFixed(1)} MiB`,
  );
}

// --- report -----------------------------------------------------------------
const rows = EFS.map((ef, i) => {
  const o = oursPoints[i]!;
  const h = hnswlib?.points[i];
  return {
    ef,
    oursRecall: o.recall,
    oursQps: Math.round(o.qps),
    hnswlibRecall: h?.recall ?? null,
    hnswlibQps: h ? Math.round(h.qps) : null,
    recallDelta: h ? o.recall - h.recall : null,
    qpsRatio: h ? o.qps / h.qps : null,
    oursCpuQps: Math.round(oursCpuQps[i]!),
    hnswlibCpuQps: hnswlib ? Math.round(hnswlib.cpuQps[i]!) : null,
  };
});
log(
  '\n| efSearch | recall@10 ours | recall@10 hnswlib | QPS ours | QPS hnswlib | QPS ratio | CPU-QPS ratio |',
);
log('|---:|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  log(
    `| ${r.ef} | ${r.oursRecall.toFixed(4)} | ${r.hnswlibRecall?.toFixed(4) ?? '-'} | ${r.oursQps} | ${r.hnswlibQps ?? '-'} | ${r.qpsRatio?.toFixed(2) ?? '-'} | ${r.hnswlibCpuQps ? (r.oursCpuQps / r.hnswlibCpuQps).toFixed(2) : '-'} |`,
  );
}
const oursAt95 = qpsAtRecall(oursPoints, 0.95);
const hnswAt95 = hnswlib ? qpsAtRecall(hnswlib.points, 0.95) : null;
const summary = {
  buildSecondsOurs: oursBuild,
  buildSecondsHnswlib: hnswlib?.buildSeconds ?? null,
  buildRatio: hnswlib ? oursBuild / hnswlib.buildSeconds : null,
  buildCpuSecondsOurs: oursBuildCpu,
  buildCpuSecondsHnswlib: hnswlib?.buildCpuSeconds ?? null,
  buildCpuRatio: hnswlib ? oursBuildCpu / hnswlib.buildCpuSeconds : null,
  parallelBuildSeconds: parBuild,
  parallelThreads: threads,
  parallelRecallAtEf40: parRecall,
  qpsAtRecall095Ours: oursAt95,
  qpsAtRecall095Hnswlib: hnswAt95,
  qpsRatioAtRecall095: oursAt95 !== null && hnswAt95 !== null ? oursAt95 / hnswAt95 : null,
  maxRecallGap: hnswlib ? Math.max(...rows.map((r) => Math.abs(r.recallDelta ?? 0))) : null,
  memoryBytesOurs: ours.byteLength,
  memoryRssBytesOurs: childRssOurs,
  memoryRssBytesHnswlib: childRssHnswlib,
  memoryRatioRss:
    childRssOurs !== null && childRssHnswlib !== null ? childRssOurs / childRssHnswlib : null,
  memoryModelBytesHnswlib: hnswlib?.modelBytes ?? null,
  memoryRatioModel: hnswlib ? ours.byteLength / hnswlib.modelBytes : null,
  // RSS growth in this (shared) process: polluted by the other library's heap and GC.
  memoryInProcessRssOurs: oursRss,
  memoryInProcessRssHnswlib: hnswlib?.rssBytes ?? null,
  saveSeconds,
  loadSeconds,
  fileBytes: bytes.length,
};
log(`\n${JSON.stringify(summary, null, 2)}`);

const dir = fileURLToPath(new URL('./results/', import.meta.url));
mkdirSync(dir, { recursive: true });
const name = N === 100_000 && Q === 1_000 ? 'hnsw-100k' : `hnsw-${N}-q${Q}`;
const result = {
  date: new Date().toISOString(),
  machine: {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: availableParallelism(),
    node: process.version,
  },
  data: SPEC,
  params: { M, efConstruction: EF_CONSTRUCTION, k: K },
  kernel: ours.kernel,
  hnswlib: peer.ok ? 'hnswlib-node 3.0.0' : `skipped: ${peer.reason}`,
  rows,
  summary,
};
writeFileSync(`${dir}${name}.json`, `${JSON.stringify(result, null, 2)}\n`);
const series = [{ name: '@plexus/vector-index', colour: '#d62728', points: oursPoints }];
if (hnswlib) series.push({ name: 'hnswlib-node', colour: '#1f77b4', points: hnswlib.points });
writeFileSync(
  `${dir}${name}.svg`,
  recallQpsSvg(
    `${N.toLocaleString('en-US')} x ${DIM}, ${SPEC.clusters} Gaussian clusters, M=${M}, efC=${EF_CONSTRUCTION}`,
    series,
  ),
);
log(`\nwrote bench/results/${name}.json and .svg`);
