/**
 * Paged against dense attention on WebGPU: decode (one query per sequence)
 * and chunked prefill, over a cache resident on the device
 * (`WebGpuKvStorage`). Three variants per configuration, timed interleaved
 * (median of `--reps` rounds, each followed by a GPU sync):
 *
 * - paged: the WGSL kernel through block tables whose blocks are scattered
 *   over the pool (what a running server has);
 * - contiguous: the same kernel with each sequence's blocks consecutive (so
 *   the ratio paged / contiguous is the cost of paging itself);
 * - dense tfjs: batched matMul / softmax / matMul over contiguous
 *   `[batch, kvHeads, context, headDim]` K/V.
 *
 * Writes `gpu-decode-<adapter>.json` (adapter name in the file and its name)
 * to `--out-dir` (default: `results/` beside this file). A software adapter
 * (lavapipe) is used only with `--allow-software`, and its results are
 * labelled as CPU numbers. Bundle for a GPU machine with
 * `../shared/gpu/prepare.sh packages/kv-cache/bench/gpu-decode.ts gpu-decode`,
 * then `bash .device/run.sh gpu-decode.mjs --out-dir "$OUT"`.
 *
 *   --small            tiny sizes, to prove the run end to end on lavapipe
 *   --allow-software   accept a software adapter (lavapipe)
 *   --reps N           timed rounds (default 10, 3 with --small)
 *   --out-dir DIR      where to write the JSON
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
// initBackend installs Dawn (the `webgpu` package) as `navigator.gpu` itself
// when there is none, before it loads tfjs' webgpu backend.
import { initBackend, SeededRandom } from '@plexus/tensor';
import { adapterReport } from '@plexus/tensor/testing';
import * as tf from '@tensorflow/tfjs-core';
import { PagedKvStorage, pagedAttentionTensor, WebGpuKvStorage } from '../src/index.js';
import { chunkMask, denseChunkAttention } from './gpu-dense.js';

function argValue(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const small = process.argv.includes('--small');
const allowSoftware = process.argv.includes('--allow-software');
const reps = Number(argValue('--reps') ?? (small ? 3 : 10));
const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(argValue('--out-dir') ?? join(here, 'results'));

interface Config {
  readonly batch: number;
  readonly context: number;
  /** Queries per sequence: 1 for decode, the chunk length for prefill. */
  readonly chunk: number;
  readonly numHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly blockSize: number;
}

const model = small
  ? { numHeads: 4, numKvHeads: 2, headDim: 32, blockSize: 16 }
  : { numHeads: 32, numKvHeads: 8, headDim: 128, blockSize: 16 };
const configs: Config[] = (
  small
    ? [
        { batch: 2, context: 64, chunk: 1 },
        { batch: 4, context: 128, chunk: 1 },
        { batch: 2, context: 64, chunk: 16 },
      ]
    : [
        { batch: 8, context: 1024, chunk: 1 },
        { batch: 32, context: 1024, chunk: 1 },
        { batch: 16, context: 4096, chunk: 1 },
        { batch: 4, context: 2048, chunk: 256 },
        { batch: 1, context: 4096, chunk: 512 },
      ]
).map((c) => ({ ...c, ...model }));

/** Wait for all queued GPU work: read back one value computed after it (the queue runs in order). */
let anchor: tf.Tensor | undefined;
async function sync(): Promise<void> {
  anchor ??= tf.fill([1], 1);
  const one = tf.add(anchor, 1);
  await one.data();
  one.dispose();
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Time one configuration: paged, contiguous and dense tfjs, interleaved. */
async function run(c: Config): Promise<Record<string, unknown>> {
  const { batch, context, chunk, numHeads: H, numKvHeads: kvH, headDim: d, blockSize } = c;
  const rand = new SeededRandom(1);
  const perSeq = Math.ceil(context / blockSize);
  const numBlocks = batch * perSeq;
  const layout = { numLayers: 1, numBlocks, blockSize, numKvHeads: kvH, headDim: d };
  // Scattered tables: a seeded permutation of the pool; contiguous: consecutive blocks.
  const order = Array.from({ length: numBlocks }, (_, i) => i);
  for (let i = order.length - 1; i > 0; i--) {
    const j = rand.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const scattered = Array.from({ length: batch }, (_, s) =>
    order.slice(s * perSeq, (s + 1) * perSeq),
  );
  const contiguous = Array.from({ length: batch }, (_, s) =>
    Array.from({ length: perSeq }, (_, b) => s * perSeq + b),
  );
  const host = new PagedKvStorage(layout);
  const row = kvH * d;
  // Dense K/V [batch, kvH, context, d] with the same values the scattered tables address.
  const denseK = new Float32Array(batch * context * row);
  const denseV = new Float32Array(batch * context * row);
  for (let s = 0; s < batch; s++) {
    const k = rand.fillNormal(new Float32Array(context * row));
    const v = rand.fillNormal(new Float32Array(context * row));
    host.write(0, scattered[s]!, 0, k, v);
    for (let t = 0; t < context; t++)
      for (let g = 0; g < kvH; g++) {
        const dst = ((s * kvH + g) * context + t) * d;
        denseK.set(k.subarray((t * kvH + g) * d, (t * kvH + g + 1) * d), dst);
        denseV.set(v.subarray((t * kvH + g) * d, (t * kvH + g + 1) * d), dst);
      }
  }
  const device = new WebGpuKvStorage(layout);
  device.upload(host);
  const kT = tf.tensor4d(denseK, [batch, kvH, context, d]);
  const vT = tf.tensor4d(denseV, [batch, kvH, context, d]);
  const q = tf.tensor3d(rand.fillNormal(new Float32Array(batch * chunk * H * d)), [
    batch * chunk,
    H,
    d,
  ]);
  const mask = chunkMask(H / kvH, chunk, context);
  const queries = (tables: number[][]) =>
    tables.map((blockTable) => ({ blockTable, queryStart: context - chunk, numQueries: chunk }));
  const variants: [string, () => tf.Tensor][] = [
    ['paged', () => pagedAttentionTensor(device, 0, q, queries(scattered), { numHeads: H })],
    ['contiguous', () => pagedAttentionTensor(device, 0, q, queries(contiguous), { numHeads: H })],
    ['denseTfjs', () => denseChunkAttention(q, kT, vT, chunk, mask)],
  ];
  // First calls compile the pipelines; also the correctness check.
  const [paged, dense] = [variants[0]![1](), variants[2]![1]()];
  const [a, b] = [(await paged.data()) as Float32Array, (await dense.data()) as Float32Array];
  let maxAbsDiff = 0;
  for (let i = 0; i < a.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(a[i]! - b[i]!));
  tf.dispose([paged, dense, variants[1]![1]()]);
  await sync();
  const times: number[][] = variants.map(() => []);
  for (let r = 0; r < reps; r++)
    for (const [i, [, fn]] of variants.entries()) {
      const t0 = performance.now();
      const out = fn();
      await sync();
      times[i]!.push(performance.now() - t0);
      out.dispose();
    }
  tf.dispose([kT, vT, q, ...(mask === undefined ? [] : [mask])]);
  device.dispose();
  const [pagedMs, contiguousMs, denseTfjsMs] = times.map(median) as [number, number, number];
  const result = {
    kind: chunk === 1 ? 'decode' : 'prefill',
    ...c,
    pagedMs: round(pagedMs),
    contiguousMs: round(contiguousMs),
    denseTfjsMs: round(denseTfjsMs),
    pagedOverContiguous: round(pagedMs / contiguousMs),
    pagedOverDenseTfjs: round(pagedMs / denseTfjsMs),
    maxAbsDiffVsDense: maxAbsDiff,
    runsMs: Object.fromEntries(variants.map(([name], i) => [name, times[i]!.map((t) => round(t))])),
  };
  console.error(JSON.stringify({ ...result, runsMs: undefined }));
  return result;
}

const choice = await initBackend({ backend: 'webgpu', allowSoftwareAdapter: allowSoftware });
const syncOnly: number[] = [];
for (let i = 0; i < 5; i++) {
  const t0 = performance.now();
  await sync();
  syncOnly.push(performance.now() - t0);
}
const rows = [];
for (const c of configs) {
  // A configuration past the device's limits is recorded as skipped, not fatal.
  try {
    rows.push(await run(c));
  } catch (error) {
    const skipped = error instanceof Error ? error.message : String(error);
    console.error(`skipped ${JSON.stringify(c)}: ${skipped}`);
    rows.push({ kind: c.chunk === 1 ? 'decode' : 'prefill', ...c, skipped });
  }
}
const report = adapterReport(choice);
const result = {
  benchmark: '@plexus/kv-cache gpu-decode',
  date: new Date().toISOString(),
  adapter: report.adapter,
  isGpu: report.isGpu,
  label: report.label,
  small,
  reps,
  node: process.version,
  syncOverheadMs: round(median(syncOnly)),
  rows,
};
mkdirSync(outDir, { recursive: true });
const path = join(outDir, `gpu-decode-${report.slug}.json`);
writeFileSync(path, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${path}`);
tf.dispose(anchor);
