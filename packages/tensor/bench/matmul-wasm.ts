// `pnpm bench:matmul`: the Plexus WebAssembly SIMD GEMM against
// tfjs-backend-wasm's own BatchMatMul, on the products of one `tiny` Llama
// training step (plexus-train lm: hidden 128, intermediate 344, vocab 512,
// batch 8 x seq 64, heads of 32) in all four transpose cases, and 2048³.
// Both kernels run in the same process, interleaved sample by sample, on
// the same input tensors; each sample averages enough calls to last ~20 ms
// and the median sample is reported. tfjs caches XNNPACK's packed copy of B
// per tensor, which helps a benchmark that reuses B but not training, where
// B (an activation, a gradient, a transposed weight) is a new tensor every
// call; the untransposed unbatched rows are therefore also measured with a
// fresh B tensor (same values) per call ("fresh B").
// Writes bench/results/matmul-wasm.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import {
  initBackend,
  randomNormalTensor,
  SeededRandom,
  setWasmMatMulEnabled,
} from '../src/index.js';

interface Shape {
  /** Batch dims, then op(A) is [m, k] and op(B) [k, n]. */
  batch: number[];
  m: number;
  k: number;
  n: number;
  /** Where it comes from in the training step. */
  role: string;
}

const quick = process.argv.includes('--quick');
const TRAINING: Shape[] = [
  { batch: [], m: 128, k: 512, n: 688, role: 'MLP up/gate weight grad (dWᵀ·x)' },
  { batch: [], m: 512, k: 688, n: 128, role: 'MLP down, fused gate|up' },
  { batch: [], m: 512, k: 128, n: 344, role: 'MLP up/gate forward' },
  { batch: [], m: 344, k: 512, n: 128, role: 'MLP down weight grad' },
  { batch: [], m: 512, k: 128, n: 688, role: 'MLP gate|up forward' },
  { batch: [], m: 128, k: 512, n: 256, role: 'attention projection weight grad' },
  { batch: [], m: 512, k: 128, n: 512, role: 'LM head forward' },
  { batch: [], m: 128, k: 32, n: 64, role: 'attention scores, one head' },
  { batch: [32], m: 64, k: 32, n: 64, role: 'attention scores, batched (8 x 4 heads)' },
  { batch: [32], m: 64, k: 64, n: 32, role: 'attention values, batched' },
];
const LARGE: Shape[] = [{ batch: [], m: 2048, k: 2048, n: 2048, role: 'square 2048' }];
const FLAGS = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const;

interface Row {
  shape: string;
  role: string;
  transposeA: boolean;
  transposeB: boolean;
  /** Every call gets a B tensor it has not seen before (as in training). */
  freshB: boolean;
  plexusMs: number;
  tfjsMs: number;
  plexusGflops: number;
  tfjsGflops: number;
  speedup: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

/** What one timed call runs; `prepare` and `release` bracket each sample, untimed. */
interface Bench {
  run(call: number): void;
  prepare?(calls: number): void;
  release?(): void;
}

/** Median ms per call of our kernel and tfjs', interleaved. */
function timeBoth(bench: Bench, flops: number, rounds: number): [number, number] {
  const sample = (calls: number) => {
    bench.prepare?.(calls);
    const s = performance.now();
    for (let c = 0; c < calls; c++) bench.run(c);
    const ms = (performance.now() - s) / calls;
    bench.release?.();
    return ms;
  };
  setWasmMatMulEnabled(true);
  sample(3); // warm-up
  setWasmMatMulEnabled(false);
  sample(3);
  // Enough calls per sample to cover ~20 ms, so tiny shapes are measurable.
  const est = Math.max(sample(1), flops / 20e6, 1e-3);
  const calls = Math.max(1, Math.min(200, Math.round(20 / est)));
  const ours: number[] = [];
  const theirs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (const on of r % 2 === 0 ? [true, false] : [false, true]) {
      setWasmMatMulEnabled(on);
      (on ? ours : theirs).push(sample(calls));
    }
  }
  setWasmMatMulEnabled(true);
  return [median(ours), median(theirs)];
}

const choice = await initBackend({ backend: 'wasm' });
const rng = new SeededRandom(7);
{
  // V8 runs new wasm code on its baseline compiler (Liftoff) until the
  // optimised tier is ready; run both kernels for a second first so every
  // timed call uses optimised code, as it does a few steps into training.
  const a = randomNormalTensor([256, 256], rng);
  const t0 = performance.now();
  while (performance.now() - t0 < 1000)
    for (const on of [true, false]) {
      setWasmMatMulEnabled(on);
      tf.matMul(a, a).dispose();
      tf.matMul(a, a, true, true).dispose();
    }
  setWasmMatMulEnabled(true);
  a.dispose();
}
const rows: Row[] = [];
for (const s of [...TRAINING, ...LARGE]) {
  const flags = s.m === 2048 ? FLAGS.slice(0, quick ? 1 : 2) : FLAGS;
  const cases = flags.map(([ta, tb]) => ({ ta, tb, fresh: false }));
  if (s.batch.length === 0 && s.m !== 2048) cases.push({ ta: false, tb: false, fresh: true });
  for (const { ta, tb, fresh } of cases) {
    const a = randomNormalTensor([...s.batch, ...(ta ? [s.k, s.m] : [s.m, s.k])], rng);
    const b = randomNormalTensor([...s.batch, ...(tb ? [s.n, s.k] : [s.k, s.n])], rng);
    const batches = s.batch.reduce((p, d) => p * d, 1);
    const flops = 2 * batches * s.m * s.n * s.k;
    // wasm kernels run synchronously: the product is done when matMul returns.
    let copies: tf.Tensor[] = [];
    const bench: Bench = fresh
      ? {
          prepare: (calls) => {
            const values = b.dataSync();
            copies = Array.from({ length: calls }, () => tf.tensor(values, b.shape));
          },
          run: (c) => tf.matMul(a, copies[c]!, ta, tb).dispose(),
          release: () => tf.dispose(copies),
        }
      : { run: () => tf.matMul(a, b, ta, tb).dispose() };
    const [ours, theirs] = timeBoth(bench, flops, s.m === 2048 ? 3 : quick ? 5 : 15);
    const shape = `${s.batch.length > 0 ? `${s.batch.join('x')} x ` : ''}[${s.m},${s.k}]x[${s.k},${s.n}]`;
    rows.push({
      shape,
      role: s.role,
      transposeA: ta,
      transposeB: tb,
      freshB: fresh,
      plexusMs: ours,
      tfjsMs: theirs,
      plexusGflops: flops / ours / 1e6,
      tfjsGflops: flops / theirs / 1e6,
      speedup: theirs / ours,
    });
    const r = rows[rows.length - 1]!;
    console.log(
      `${shape.padEnd(28)} tA=${ta ? 1 : 0} tB=${tb ? 1 : 0}${fresh ? ' fresh B' : '        '}  plexus ${ours.toFixed(3)} ms (${r.plexusGflops.toFixed(1)} GFLOP/s)  tfjs ${theirs.toFixed(3)} ms (${r.tfjsGflops.toFixed(1)})  x${r.speedup.toFixed(2)}`,
    );
    tf.dispose([a, b]);
  }
}

const training = rows.filter((r) => !r.shape.includes('2048') && !r.freshB);
const sum = (xs: number[]) => xs.reduce((p, x) => p + x, 0);
const geomean = (xs: number[]) => Math.exp(sum(xs.map(Math.log)) / xs.length);
const summary = {
  trainingShapesTotalSpeedup:
    sum(training.map((r) => r.tfjsMs)) / sum(training.map((r) => r.plexusMs)),
  trainingShapesGeomeanSpeedup: geomean(training.map((r) => r.speedup)),
  trainingShapesNoTransposeGeomeanSpeedup: geomean(
    training.filter((r) => !r.transposeA && !r.transposeB).map((r) => r.speedup),
  ),
  freshBNoTransposeGeomeanSpeedup: geomean(rows.filter((r) => r.freshB).map((r) => r.speedup)),
  minSpeedup: Math.min(...rows.map((r) => r.speedup)),
};
console.log(summary);
const result = {
  benchmark: '@plexus/tensor wasm BatchMatMul: Plexus SIMD GEMM vs tfjs-backend-wasm 4.22',
  date: new Date().toISOString(),
  machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
  device: choice.device,
  method:
    'same process and input tensors; kernels interleaved per sample; median of samples; each sample averages enough calls to last ~20 ms; freshB rows give every call a new B tensor with the same values (tfjs caches packed B per tensor)',
  rows,
  summary,
};
if (!quick) {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'results');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'matmul-wasm.json'), `${JSON.stringify(result, null, 2)}\n`);
}
