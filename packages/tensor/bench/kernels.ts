import * as tf from '@tensorflow/tfjs-core';
import {
  type CsrMatrix,
  initBackend,
  type PlexusBackendName,
  SeededRandom,
  spmm,
  spmmComposite,
} from '../src/index.js';
import { runCReference } from './c-reference.js';
import { naiveSpmm } from './naive-spmm.js';
import { Progress } from './progress.js';
import { randomCsr } from './random-csr.js';
import { medianMs } from './timing.js';

/** One measured row of the kernel benchmark. */
export interface BenchRow {
  readonly kernel: string;
  readonly backend: string;
  readonly impl: string;
  readonly shape: string;
  readonly medianMs?: number;
  readonly gflops?: number;
  readonly gbps?: number;
  readonly skipped?: string;
}

/** What to run. */
export interface KernelBenchOptions {
  readonly backends: readonly PlexusBackendName[];
  readonly matmulSizes: readonly number[];
  /** The spmm graph (issue: N=100k, E=1M, F=64). */
  readonly spmm: { readonly n: number; readonly e: number; readonly f: number };
  /** Smaller graphs on which tfjs' gather + unsortedSegmentSum (quadratic on cpu) can finish. */
  readonly baselineSizes: readonly number[];
  readonly reps: number;
  readonly allowSoftwareAdapter?: boolean;
}

const spmmBytes = (n: number, e: number, f: number): number => 4 * (e * f + n * f + 2 * e + n);

async function sync(t: tf.Tensor): Promise<void> {
  await t.data();
}

/** Run the kernel benchmark suite with a progress display; returns every row measured. */
export async function runKernelBenchmarks(
  opts: KernelBenchOptions,
  devices: Record<string, string> = {},
): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const { n, e, f } = opts.spmm;
  const steps =
    opts.backends.length * (opts.matmulSizes.length + 2 + opts.baselineSizes.length) + 2;
  const progress = new Progress(steps, 'kernels');
  progress.status(`building a random graph N=${n} E=${e}`);
  const m = randomCsr(n, e, 42);
  const x = new SeededRandom(43).fillNormal(new Float32Array(n * f));
  const flops = 2 * e * f;

  progress.status('naive JS loop');
  const naiveMs = await medianMs(
    async () => void naiveSpmm(m.indptr, m.indices, m.values!, x, f),
    opts.reps,
  );
  rows.push({
    kernel: 'spmm',
    backend: 'js',
    impl: 'naive JS loop',
    shape: `N=${n} E=${e} F=${f}`,
    medianMs: naiveMs,
    gflops: flops / naiveMs / 1e6,
    gbps: spmmBytes(n, e, f) / naiveMs / 1e6,
  });
  progress.tick('C reference (g++ -O3, 1 thread)');
  const c = runCReference(m, x, f, opts.reps);
  rows.push(
    'skipped' in c
      ? {
          kernel: 'spmm',
          backend: 'c',
          impl: 'C -O3 single thread',
          shape: `N=${n} E=${e} F=${f}`,
          skipped: c.skipped,
        }
      : {
          kernel: 'spmm',
          backend: 'c',
          impl: 'C -O3 single thread',
          shape: `N=${n} E=${e} F=${f}`,
          medianMs: c.medianMs,
          gflops: flops / c.medianMs / 1e6,
          gbps: spmmBytes(n, e, f) / c.medianMs / 1e6,
        },
  );
  progress.tick('');

  for (const backend of opts.backends) {
    try {
      const choice = await initBackend({
        backend,
        allowSoftwareAdapter: opts.allowSoftwareAdapter ?? false,
      });
      devices[backend] = choice.device;
      // Naming 'webgpu' accepts a software adapter; a benchmark must not report one as the GPU.
      if (choice.limits['software'] === true && opts.allowSoftwareAdapter !== true) {
        throw new Error(
          `only a software adapter is available (${choice.device}); run with --webgpu-software to measure it`,
        );
      }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      rows.push({ kernel: '*', backend, impl: '-', shape: '-', skipped: reason });
      for (let i = 0; i < opts.matmulSizes.length + 2 + opts.baselineSizes.length; i++)
        progress.tick(`${backend} unavailable`);
      continue;
    }
    for (const size of opts.matmulSizes) {
      progress.status(`${backend}: matmul ${size}`);
      const a = tf.randomNormal([size, size], 0, 1, 'float32', 1);
      const b = tf.randomNormal([size, size], 0, 1, 'float32', 2);
      const reps = size >= 2048 && !['webgpu', 'tfjs-node-gpu'].includes(backend) ? 1 : opts.reps;
      const ms = await medianMs(async () => {
        const out = tf.matMul(a, b);
        await sync(out);
        out.dispose();
      }, reps);
      tf.dispose([a, b]);
      rows.push({
        kernel: 'matmul',
        backend,
        impl: 'tf.matMul',
        shape: `${size}x${size}`,
        medianMs: ms,
        gflops: (2 * size ** 3) / ms / 1e6,
      });
      progress.tick('');
    }
    progress.status(`${backend}: spmm (Plexus kernel)`);
    const xt = tf.tensor2d(x, [n, f]);
    rows.push(await timeSpmm(backend, 'plexus spmm', m, xt, opts.reps, (mm, xx) => spmm(mm, xx)));
    tf.dispose(xt);
    m.dispose();
    progress.tick('');
    for (const size of opts.baselineSizes) {
      progress.status(`${backend}: spmm vs gather+unsortedSegmentSum at N=${size}`);
      const small = randomCsr(size, size * (e / n), 7);
      const xs = tf.tensor2d(new SeededRandom(8).fillNormal(new Float32Array(size * f)), [size, f]);
      rows.push(
        await timeSpmm(backend, 'plexus spmm', small, xs, opts.reps, (mm, xx) => spmm(mm, xx)),
      );
      if (backend === 'wasm') {
        rows.push({
          kernel: 'spmm',
          backend,
          impl: 'tfjs gather + unsortedSegmentSum',
          shape: `N=${size} E=${small.nnz} F=${f}`,
          skipped:
            "tfjs-backend-wasm has no UnsortedSegmentSum kernel of its own (the one there now is Plexus's)",
        });
      } else {
        rows.push(
          await timeSpmm(backend, 'tfjs gather + unsortedSegmentSum', small, xs, 1, (mm, xx) =>
            spmmComposite(mm, xx, mm.tensors.get().values),
          ),
        );
      }
      tf.dispose(xs);
      small.dispose();
      progress.tick('');
    }
    progress.tick('');
  }
  return rows;
}

async function timeSpmm(
  backend: string,
  impl: string,
  m: CsrMatrix,
  x: tf.Tensor2D,
  reps: number,
  op: (m: CsrMatrix, x: tf.Tensor2D) => tf.Tensor,
): Promise<BenchRow> {
  const F = x.shape[1];
  const shape = `N=${m.numRows} E=${m.nnz} F=${F}`;
  try {
    const ms = await medianMs(async () => {
      const out = op(m, x);
      await sync(out);
      out.dispose();
    }, reps);
    return {
      kernel: 'spmm',
      backend,
      impl,
      shape,
      medianMs: ms,
      gflops: (2 * m.nnz * F) / ms / 1e6,
      gbps: spmmBytes(m.numRows, m.nnz, F) / ms / 1e6,
    };
  } catch (error) {
    return {
      kernel: 'spmm',
      backend,
      impl,
      shape,
      skipped: error instanceof Error ? error.message.split('\n')[0]! : String(error),
    };
  }
}
