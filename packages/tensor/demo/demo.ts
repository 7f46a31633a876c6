import { runKernelBenchmarks } from '../bench/kernels.js';
import { summarise } from '../bench/summary.js';
import { initBackend, type PlexusBackendName } from '../src/index.js';

// The main job until the apps exist: pick a backend, say what was chosen and
// why, then benchmark the kernels on it with a progress display.
const choice = await initBackend();
console.log(
  `@plexus/tensor chose '${choice.backend}' (tfjs backend '${choice.tfjsBackend}') on ${choice.device}`,
);
console.log(`GPU: ${choice.isGpu ? 'yes' : 'no'}; limits: ${JSON.stringify(choice.limits)}`);
console.log('backends tried, in order:');
for (const a of choice.attempts)
  console.log(`  ${a.ok ? '✔' : '✘'} ${a.backend.padEnd(14)} ${a.reason}`);

const backends: PlexusBackendName[] = choice.backend === 'cpu' ? ['cpu'] : [choice.backend, 'cpu'];
const rows = await runKernelBenchmarks({
  backends,
  matmulSizes: [512, 1024],
  spmm: { n: 100_000, e: 1_000_000, f: 64 },
  baselineSizes: [100, 300],
  reps: 3,
});
console.table(
  rows.map((r) => ({
    kernel: r.kernel,
    backend: r.backend,
    impl: r.impl,
    shape: r.shape,
    ms: r.medianMs?.toFixed(2) ?? '-',
    'GFLOP/s': r.gflops?.toFixed(2) ?? '-',
    'GB/s': r.gbps?.toFixed(2) ?? '-',
    note: r.skipped ?? '',
  })),
);
console.log('targets (ratios measured in this run):');
console.log(JSON.stringify(summarise(rows), null, 2));
