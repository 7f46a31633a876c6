/**
 * GPU check of Plexus's WebGPU kernels, meant to be bundled by
 * `shared/gpu/prepare.sh packages/tensor/bench/gpu-check.ts gpu-check` and run
 * on the GPU machine (`bash .device/run.sh gpu-check.mjs`). It times spmm at
 * N = 1M nodes, E = 10M edges, F = 64 (target: under 34 ms on an H100) and
 * tfjs' fp32 matmul 4096 (TFLOP/s), spot-checks spmm rows against a host
 * computation, prints JSON and writes it to `--out` (default
 * `gpu-check.json` in the working directory).
 *
 *   --small            tiny sizes, to prove the bundle end to end on lavapipe
 *   --allow-software   accept a software adapter (lavapipe)
 *   --reps N           timed runs per measurement (default 10; median reported)
 *   --skip-matmul      time spmm only (matmul 4096 takes minutes on lavapipe)
 *   --out FILE         where to write the JSON
 */
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
// initBackend installs Dawn (the `webgpu` package) as `navigator.gpu` itself
// when there is none, before it loads tfjs' webgpu backend.
import { initBackend, SeededRandom, spmm } from '../src/index.js';
import { webGpuKernelLimits } from '../src/kernels/webgpu/limits.js';
import { randomCsr } from './random-csr.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const small = process.argv.includes('--small');
const allowSoftware = process.argv.includes('--allow-software');
const reps = Number(argValue('--reps') ?? 10);
const skipMatmul = process.argv.includes('--skip-matmul');
const outPath = resolve(argValue('--out') ?? 'gpu-check.json');
const sizes = small
  ? { nodes: 5_000, edges: 50_000, features: 64, matmul: 256 }
  : { nodes: 1_000_000, edges: 10_000_000, features: 64, matmul: 4096 };

/**
 * Wait for all GPU work queued so far by reading back a one-element tensor
 * computed after it (the queue runs in order). Its input is made on the GPU:
 * tfjs runs ops on small CPU-resident inputs on the CPU, which would not
 * wait. Reading from the result itself would bind all of it (failing past
 * maxStorageBufferBindingSize), and a full readback would dominate the time.
 */
let anchor: tf.Tensor | undefined;
async function sync(): Promise<void> {
  anchor ??= tf.fill([1], 1);
  const one = tf.add(anchor, 1);
  await one.data();
  one.dispose();
}

/** Median and all run times (ms) of `fn`, which must leave nothing queued when it resolves. */
async function timeRuns(
  fn: () => Promise<void>,
  warmup = 2,
): Promise<{ medianMs: number; runsMs: number[] }> {
  for (let i = 0; i < warmup; i++) await fn();
  const runsMs: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    runsMs.push(performance.now() - t0);
  }
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, runsMs };
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

const choice = await initBackend({ backend: 'webgpu', allowSoftwareAdapter: allowSoftware });
const device = (tf.backend() as unknown as { device: GPUDevice }).device;
const result: Record<string, unknown> = {
  small,
  node: process.version,
  device: choice.device,
  isGpu: choice.isGpu,
  deviceLimits: choice.limits,
  kernelLimits: webGpuKernelLimits(device),
};

// --- spmm ------------------------------------------------------------------
{
  const { nodes: N, edges: E, features: F } = sizes;
  let t0 = performance.now();
  const m = randomCsr(N, E, 42);
  const buildMs = performance.now() - t0;
  const rng = new SeededRandom(7);
  const xHost = rng.fillNormal(new Float32Array(N * F));
  const x = tf.tensor2d(xHost, [N, F]);
  // The first call uploads the matrix and compiles the pipeline.
  t0 = performance.now();
  const first = spmm(m, x);
  await sync();
  const firstMs = performance.now() - t0;

  // Spot-check rows against a host computation on the same arrays (a full
  // readback: it copies, while a gather program would bind the whole output).
  const rows = Int32Array.from({ length: 64 }, () => rng.int(N));
  const all = (await first.data()) as Float32Array;
  let maxAbsErr = 0;
  rows.forEach((r) => {
    for (let f = 0; f < F; f++) {
      let acc = 0;
      for (let e = m.indptr[r]!; e < m.indptr[r + 1]!; e++) {
        acc += (m.values?.[e] ?? 1) * xHost[m.indices[e]! * F + f]!;
      }
      maxAbsErr = Math.max(maxAbsErr, Math.abs(acc - all[r * F + f]!));
    }
  });
  first.dispose();

  const syncOnly = await timeRuns(sync);
  const timed = await timeRuns(async () => {
    const out = spmm(m, x);
    await sync();
    out.dispose();
  });
  // Bytes an ideal kernel moves: indptr, indices, weights once, a gathered x row
  // per entry, the output once.
  const bytes = 4 * (N + 1 + 2 * E + E * F + N * F);
  result['spmm'] = {
    N,
    E,
    F,
    buildMatrixMs: round(buildMs, 1),
    firstCallMs: round(firstMs, 1),
    medianMs: round(timed.medianMs),
    runsMs: timed.runsMs.map((v) => round(v)),
    syncOverheadMs: round(syncOnly.medianMs),
    effectiveGBs: round(bytes / (timed.medianMs * 1e6), 1),
    spotCheckMaxAbsErr: maxAbsErr,
    spotCheckOk: maxAbsErr < 1e-3 * Math.sqrt(E / N + 1),
  };
  x.dispose();
  m.dispose();
}

// --- matmul ------------------------------------------------------------------
if (!skipMatmul) {
  const n = sizes.matmul;
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 1);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 2);
  const timed = await timeRuns(async () => {
    const c = tf.matMul(a, b);
    await sync();
    c.dispose();
  });
  result['matmul'] = {
    n,
    medianMs: round(timed.medianMs),
    runsMs: timed.runsMs.map((v) => round(v)),
    tflops: round((2 * n ** 3) / (timed.medianMs * 1e9), 2),
    gflops: round((2 * n ** 3) / (timed.medianMs * 1e6), 1),
  };
  tf.dispose([a, b]);
}

const text = JSON.stringify(result, null, 2);
console.log(text);
writeFileSync(outPath, `${text}\n`);
console.error(`wrote ${outPath}`);
