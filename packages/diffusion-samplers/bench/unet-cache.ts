// Step caches on a small trained U-Net (tfjs-layers): speed-up against error
// to the uncached sampler's output for DeepCache reuse, AB-Cache
// extrapolation, "Faster Diffusion" encoder propagation and the DP cache
// schedule, beside plain step reduction. Writes bench/results/unet-cache.json
// and bench/results/unet-cache.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  type CachedNetwork,
  cacheScheduleDp,
  createDdim,
  createDpmSolverPlusPlus,
  createFeatureCache,
  createVpModel,
  type Denoiser,
  DiscreteVpSchedule,
  meanL2,
  PortableRng,
  reuseErrorMatrix,
  type SamplerV1,
  uniformCacheSchedule,
  vpGrid,
} from '../src/index.js';
import { logLogSvg } from './svg.js';
import { SIZE } from './unet/data.js';
import { loadUnet, trainUnetIfNeeded } from './unet/train.js';
import { timePlanes, unetMacs } from './unet/unet.js';

/** One sampling configuration and its cost and error. */
export interface UnetCacheRow {
  sampler: string;
  steps: number;
  method:
    | 'uncached'
    | 'fewer-steps'
    | 'deepcache'
    | 'ab-cache'
    | 'encoder-propagation'
    | 'dp-deepcache'
    | 'dp-ab-cache';
  schedule: string;
  order: number;
  fullCalls: number;
  calls: number;
  ms: number;
  speedup: number;
  macSpeedup: number;
  /** Speed-up predicted from isolated, repeated timings of each U-Net piece (robust to load spikes). */
  blockSpeedup: number;
  errorVsUncached: number;
  relativeError: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const train = { c1: 16, c2: 32, steps: 300, batch: 16, lr: 2e-3, seed: 3 };
await initBackend({ backend: (process.env['PLEXUS_BACKEND'] ?? 'wasm') as 'wasm' });
await trainUnetIfNeeded(schedule, train);
const { unet, finalLoss, trainSeconds } = loadUnet(train);
console.log(
  `unet loss ${finalLoss.toFixed(4)} (trained in ${trainSeconds.toFixed(0)} s; weights cached in bench/.tmp)`,
);
const macs = unetMacs(train.c1, train.c2);
const totalMacs = macs.e1 + macs.e2 + macs.mid + macs.d2 + macs.d1;

const N = 16;
const noise = tf.tensor4d(Float32Array.from(new PortableRng(11).normals(N * SIZE * SIZE)), [
  N,
  SIZE,
  SIZE,
  1,
]);
const planes = (t: number) =>
  [timePlanes(schedule, t, N, SIZE), timePlanes(schedule, t, N, SIZE / 2)] as const;
const predict = (m: { predict(x: tf.Tensor[]): tf.Tensor | tf.Tensor[] }, xs: tf.Tensor[]) =>
  m.predict(xs) as tf.Tensor;

/** The uncached U-Net, piece by piece (the same ops the cached nets run). */
const plain: Denoiser = (x, t) => {
  const [p16, p8] = planes(t);
  const out = tf.tidy(() => {
    const h1 = predict(unet.e1, [x, p16]);
    const h2 = predict(unet.e2, [h1, p8]);
    const m = predict(unet.mid, [h2, p8]);
    const u = predict(unet.d2, [m, h2, p8]);
    return predict(unet.d1, [u, h1, p16]);
  });
  tf.dispose([p16, p8]);
  return out;
};

/** Best-of-15 wall time of each U-Net piece on the benchmark batch, interleaved. */
function pieceMs(): Record<keyof typeof macs, number> {
  const [p16, p8] = planes(500);
  const h1 = predict(unet.e1, [noise, p16]);
  const h2 = predict(unet.e2, [h1, p8]);
  const m = predict(unet.mid, [h2, p8]);
  const u = predict(unet.d2, [m, h2, p8]);
  const runs: Record<keyof typeof macs, () => tf.Tensor> = {
    e1: () => predict(unet.e1, [noise, p16]),
    e2: () => predict(unet.e2, [h1, p8]),
    mid: () => predict(unet.mid, [h2, p8]),
    d2: () => predict(unet.d2, [m, h2, p8]),
    d1: () => predict(unet.d1, [u, h1, p16]),
  };
  const best = { e1: Infinity, e2: Infinity, mid: Infinity, d2: Infinity, d1: Infinity };
  for (let rep = 0; rep < 15; rep++)
    for (const name of Object.keys(runs) as (keyof typeof macs)[]) {
      const t0 = performance.now();
      const out = runs[name]();
      out.dataSync();
      best[name] = Math.min(best[name], performance.now() - t0);
      out.dispose();
    }
  tf.dispose([p16, p8, h1, h2, m, u]);
  return best;
}
const pieces = pieceMs();
const pieceTotal = pieces.e1 + pieces.e2 + pieces.mid + pieces.d2 + pieces.d1;
console.log('piece ms', pieces);

/** DeepCache: the deep branch (E2, Mid, D2) is the cached block; E1 and D1 always run. */
const deepNet: CachedNetwork<unknown> = (x, t, _c, _i, ctx) => {
  const [p16, p8] = planes(t);
  const h1 = predict(unet.e1, [x, p16]);
  const u = ctx.block('deep', () =>
    tf.tidy(() => {
      const h2 = predict(unet.e2, [h1, p8]);
      return predict(unet.d2, [predict(unet.mid, [h2, p8]), h2, p8]);
    }),
  );
  const out = predict(unet.d1, [u, h1, p16]);
  tf.dispose([p16, p8, h1, u]);
  return out;
};

/** Encoder propagation: the encoder features (E1, E2, Mid) are cached; the decoder always runs. */
const encoderNet: CachedNetwork<unknown> = (x, t, _c, _i, ctx) => {
  const [p16, p8] = planes(t);
  const h1 = ctx.block('h1', () => predict(unet.e1, [x, p16]));
  const h2 = ctx.block('h2', () => predict(unet.e2, [h1, p8]));
  const m = ctx.block('mid', () => predict(unet.mid, [h2, p8]));
  const out = tf.tidy(() => predict(unet.d1, [predict(unet.d2, [m, h2, p8]), h1, p16]));
  tf.dispose([p16, p8, h1, h2, m]);
  return out;
};

async function timed(
  sampler: SamplerV1,
  denoise: Denoiser,
  grid: ReturnType<typeof vpGrid>,
  reset?: () => void,
) {
  let best = Number.POSITIVE_INFINITY;
  let result: Float32Array = new Float32Array(0);
  for (let r = 0; r < 3; r++) {
    reset?.();
    const t0 = performance.now();
    const out = await sampler.sample({ denoise, model, grid, noise, checkFinite: false });
    const data = out.dataSync() as Float32Array;
    best = Math.min(best, performance.now() - t0);
    result = data;
    out.dispose();
  }
  return { ms: best, data: result };
}

const rows: UnetCacheRow[] = [];
const samplers: [string, SamplerV1, number][] = [
  ['dpmpp-2m', createDpmSolverPlusPlus(), 20],
  ['ddim', createDdim(), 50],
];
for (const [name, sampler, steps] of samplers) {
  const grid = vpGrid(schedule, steps, { spacing: 'trailing' });
  await timed(sampler, plain, grid); // warm-up
  const base = await timed(sampler, plain, grid);
  const baseNorm = meanL2(base.data, new Float32Array(base.data.length), SIZE * SIZE);
  const push = (
    row: Omit<UnetCacheRow, 'sampler' | 'steps' | 'speedup' | 'errorVsUncached' | 'relativeError'>,
    data: Float32Array,
  ) => {
    const err = meanL2(data, base.data, SIZE * SIZE);
    const r: UnetCacheRow = {
      sampler: name,
      steps,
      ...row,
      speedup: base.ms / row.ms,
      errorVsUncached: err,
      relativeError: err / baseNorm,
    };
    rows.push(r);
    console.log(
      `${name.padEnd(9)} ${r.method.padEnd(20)} ${r.schedule.padEnd(12)} order ${r.order}  full ${String(r.fullCalls).padStart(2)}/${r.calls}  ${r.ms.toFixed(0).padStart(6)} ms  x${r.speedup.toFixed(2)} (MACs x${r.macSpeedup.toFixed(2)}, pieces x${r.blockSpeedup.toFixed(2)})  err ${err.toExponential(2)} (rel ${r.relativeError.toExponential(2)})`,
    );
  };
  push(
    {
      method: 'uncached',
      schedule: '-',
      order: 0,
      fullCalls: steps,
      calls: steps,
      ms: base.ms,
      macSpeedup: 1,
      blockSpeedup: 1,
    },
    base.data,
  );
  for (const div of [2, 3, 5]) {
    const fewer = Math.round(steps / div);
    const g = vpGrid(schedule, fewer, { spacing: 'trailing' });
    const r = await timed(sampler, plain, g);
    push(
      {
        method: 'fewer-steps',
        schedule: `${fewer} steps`,
        order: 0,
        fullCalls: fewer,
        calls: fewer,
        ms: r.ms,
        macSpeedup: steps / fewer,
        blockSpeedup: steps / fewer,
      },
      r.data,
    );
  }
  const cachedCost = {
    deep: [macs.e1 + macs.d1, pieces.e1 + pieces.d1],
    encoder: [macs.d2 + macs.d1, pieces.d2 + pieces.d1],
  } as const;
  const run = async (
    method: UnetCacheRow['method'],
    net: CachedNetwork<unknown>,
    plan: boolean[],
    label: string,
    order: number,
    cost: readonly [number, number],
  ) => {
    const cache = createFeatureCache({ schedule: plan, order });
    const r = await timed(sampler, cache.wrap(net), grid, () => cache.reset());
    const full = plan.filter((f, i) => f || i === 0).length;
    const macSpeedup = (steps * totalMacs) / (full * totalMacs + (steps - full) * cost[0]);
    const blockSpeedup = (steps * pieceTotal) / (full * pieceTotal + (steps - full) * cost[1]);
    push(
      {
        method,
        schedule: label,
        order,
        fullCalls: full,
        calls: steps,
        ms: r.ms,
        macSpeedup,
        blockSpeedup,
      },
      r.data,
    );
    cache.reset();
  };
  for (const interval of [2, 3, 5]) {
    const plan = uniformCacheSchedule(steps, interval);
    for (const order of [0, 1, 2])
      await run(
        order === 0 ? 'deepcache' : 'ab-cache',
        deepNet,
        plan,
        `every ${interval}`,
        order,
        cachedCost.deep,
      );
    await run('encoder-propagation', encoderNet, plan, `every ${interval}`, 0, cachedCost.encoder);
  }
  // DP schedule from a calibration run of the deep branch's features.
  const features: Float32Array[] = [];
  const recorder = createFeatureCache({ schedule: () => true });
  const cal = await sampler.sample({
    denoise: recorder.wrap((x, t, c, i, ctx) =>
      deepNet(x, t, c, i, {
        full: true,
        block: (nm, compute) => {
          const v = ctx.block(nm, compute);
          features.push(v.dataSync() as Float32Array);
          return v;
        },
      }),
    ),
    model,
    grid,
    noise,
  });
  cal.dispose();
  recorder.reset();
  const errors = reuseErrorMatrix(features);
  for (const div of [2, 3, 5]) {
    const budget = Math.round(steps / div);
    const plan = cacheScheduleDp(errors, budget).schedule;
    await run('dp-deepcache', deepNet, plan, `DP ${budget}`, 0, cachedCost.deep);
    await run('dp-ab-cache', deepNet, plan, `DP ${budget}`, 2, cachedCost.deep);
  }
}
noise.dispose();

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  backend: tf.getBackend(),
  cpus: cpus().length,
  images: N,
  imageShape: [SIZE, SIZE, 1],
  data: 'soft-edged disks, random centre and radius, in [-1, 1]',
  unet: { ...train, finalLoss, trainSeconds, macsPerImage: macs, pieceMs: pieces },
  timing:
    'ms: best of 3 whole sampling runs; blockSpeedup: from best-of-15 interleaved timings of each U-Net piece on the batch',
  error:
    'mean over images of the L2 distance to the uncached sampler output (relative: divided by the mean L2 norm of that output)',
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(
  join(here, 'results', 'unet-cache.json'),
  `${JSON.stringify({ meta, rows }, null, 2)}\n`,
);
const methods = [
  'fewer-steps',
  'deepcache',
  'ab-cache',
  'encoder-propagation',
  'dp-deepcache',
  'dp-ab-cache',
] as const;
const panels = samplers.map(([name, , steps]) => ({
  title: `${name}, ${steps} steps: error vs speed-up`,
  series: methods.flatMap((m) => {
    const orders = m === 'ab-cache' ? [1, 2] : [rows.find((r) => r.method === m)?.order ?? 0];
    return orders.map((o) => ({
      name: m === 'ab-cache' ? `ab-cache (order ${o})` : m,
      points: rows
        .filter((r) => r.sampler === name && r.method === m && r.order === o)
        .map((r) => [r.blockSpeedup, r.relativeError] as [number, number])
        .sort((a, b) => a[0] - b[0]),
    }));
  }),
}));
writeFileSync(
  join(here, 'results', 'unet-cache.svg'),
  logLogSvg(panels, 'speed-up (timed U-Net pieces)', 'relative error vs uncached'),
);
