// Data-parallel scaling of `plexus-train lm`: the tiny preset on the wasm
// backend, end to end through the CLI (tokenised corpus, AdamW, clipping,
// metrics), with
//   1 worker × batch 2B, 2 workers × batch B (same global batch: strong scaling),
//   2 workers × batch 2B (weak scaling), and 1 worker × 2B with an
//   asynchronous checkpoint every 2 steps (its cost on the step time).
// Step and all-reduce times are medians over the steps after the first two.
// Run: node --import tsx bench/lm-data-parallel.ts   (writes bench/results/lm-data-parallel.json)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundledCorpus } from '@plexus/models';

const APP = join(dirname(fileURLToPath(import.meta.url)), '..');
const B = Number(process.env.BENCH_BATCH ?? 8);
const SEQ = 64;
const STEPS = Number(process.env.BENCH_STEPS ?? 10);
const SKIP = 2;

interface Case {
  readonly name: string;
  readonly workers: number;
  readonly batch: number;
  readonly checkpointEvery: number;
}

const CASES: Case[] = [
  { name: '1 worker, batch 2B', workers: 1, batch: 2 * B, checkpointEvery: 0 },
  { name: '2 workers, batch B each', workers: 2, batch: B, checkpointEvery: 0 },
  { name: '2 workers, batch 2B each', workers: 2, batch: 2 * B, checkpointEvery: 0 },
  {
    name: '1 worker, batch 2B, async checkpoint every 2 steps',
    workers: 1,
    batch: 2 * B,
    checkpointEvery: 2,
  },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const work = mkdtempSync(join(tmpdir(), 'plexus-lm-bench-'));
const data = join(work, 'corpus.txt');
// 400 kB of the bundled corpus: enough windows, and the tokenizer trains in a second.
writeFileSync(data, loadBundledCorpus().slice(0, 400_000));
const rows = [];
for (const c of CASES) {
  const out = join(work, c.name.replace(/[^a-z0-9]+/gi, '-'));
  const started = performance.now();
  execFileSync(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli.ts',
      'lm',
      '--data',
      data,
      '--config',
      'tiny',
      '--backend',
      'wasm',
      '--steps',
      String(STEPS),
      '--warmup',
      '2',
      '--batch',
      String(c.batch),
      '--seq',
      String(SEQ),
      '--workers',
      String(c.workers),
      '--checkpoint-every',
      String(c.checkpointEvery),
      '--out',
      out,
    ],
    { cwd: APP, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const wallS = (performance.now() - started) / 1000;
  const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { step_ms: number; comm_ms: number; loss: number })
    .slice(SKIP);
  const stepMs = median(metrics.map((m) => m.step_ms));
  const commMs = median(metrics.map((m) => m.comm_ms));
  const globalTokens = c.workers * c.batch * SEQ;
  rows.push({
    ...c,
    seq: SEQ,
    globalBatchTokens: globalTokens,
    stepMsMedian: stepMs,
    commMsMedian: commMs,
    commShare: commMs / stepMs,
    tokensPerSecond: (globalTokens * 1000) / stepMs,
    finalLoss: metrics.at(-1)?.loss,
    wallSeconds: wallS,
  });
  console.log(
    `${c.name}: ${((globalTokens * 1000) / stepMs).toFixed(0)} tokens/s, step ${stepMs.toFixed(0)} ms, all-reduce ${commMs.toFixed(0)} ms`,
  );
}
const base = rows[0]!.tokensPerSecond;
const result = {
  bench: 'plexus-train lm data-parallel scaling (tiny preset, wasm, float32)',
  cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
  node: process.version,
  loadAverage: loadavg()[0],
  steps: STEPS,
  medianOverSteps: STEPS - SKIP,
  rows: rows.map((r) => ({ ...r, speedupOver1Worker: r.tokensPerSecond / base })),
  note: 'Workers are separate processes on one host, all-reduce over TCP (loopback) through @plexus/collectives. Each wasm worker runs one thread.',
};
mkdirSync(join(APP, 'bench', 'results'), { recursive: true });
writeFileSync(
  join(APP, 'bench', 'results', 'lm-data-parallel.json'),
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(
  JSON.stringify(
    result.rows.map((r) => [r.name, r.tokensPerSecond.toFixed(0), r.speedupOver1Worker.toFixed(2)]),
  ),
);
