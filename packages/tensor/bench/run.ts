import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PlexusBackendName } from '../src/index.js';
import { type BenchRow, runKernelBenchmarks } from './kernels.js';
import { summarise } from './summary.js';

// `pnpm bench`: the full kernel benchmark on every backend this machine has.
// `--webgpu-software` also measures WebGPU on a software adapter (slow).
const args = process.argv.slice(2);
const software = args.includes('--webgpu-software');
const backends: PlexusBackendName[] = ['cpu', 'wasm', 'webgpu'];
const devices: Record<string, string> = {};
const rows: BenchRow[] = await runKernelBenchmarks(
  {
    backends,
    matmulSizes: [512, 1024, 2048],
    spmm: { n: 100_000, e: 1_000_000, f: 64 },
    baselineSizes: [100, 300, 600],
    reps: 5,
    allowSoftwareAdapter: software,
  },
  devices,
);
const summary = summarise(rows);
const result = {
  benchmark: '@plexus/tensor kernels',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
  devices,
  rows,
  summary,
};
const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'kernels.json'), `${JSON.stringify(result, null, 2)}\n`);
console.table(
  rows.map((r) => ({
    ...r,
    medianMs: r.medianMs?.toFixed(2),
    gflops: r.gflops?.toFixed(2),
    gbps: r.gbps?.toFixed(2),
  })),
);
console.log(JSON.stringify(summary, null, 2));
