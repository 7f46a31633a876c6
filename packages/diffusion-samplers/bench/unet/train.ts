// Brief DDPM (epsilon-prediction) training of the benchmark U-Net on disk
// images; weights cached under bench/.tmp (gitignored).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { type DiscreteVpSchedule, PortableRng } from '../../src/index.js';
import { coreForward, paramsFrom, writeBack } from './core-forward.js';
import { diskImages, SIZE } from './data.js';
import { buildUnet, TIME_CHANNELS, type UNet } from './unet.js';

const tmp = join(dirname(fileURLToPath(import.meta.url)), '..', '.tmp');

/** Settings of {@link loadOrTrainUnet}; part of the cache key. */
export interface UnetTrainSettings {
  c1: number;
  c2: number;
  steps: number;
  batch: number;
  lr: number;
  seed: number;
}

/** Per-sample time features `[n, h, h, 4]` for timesteps `ts`. */
export function timePlanesBatch(
  schedule: DiscreteVpSchedule,
  ts: number[],
  h: number,
): tf.Tensor4D {
  const T = schedule.alphasCumprod.length;
  const k = TIME_CHANNELS;
  const out = new Float32Array(ts.length * h * h * k);
  ts.forEach((t, n) => {
    const f = [
      t / T,
      Math.sin((Math.PI * t) / T),
      Math.cos((Math.PI * t) / T),
      Math.sqrt(1 - schedule.alphasCumprod[t]!),
    ];
    for (let p = 0; p < h * h; p++) out.set(f, (n * h * h + p) * k);
  });
  return tf.tensor4d(out, [ts.length, h, h, k]);
}

/** Where the weights of `settings` are cached. */
function cacheFile(settings: UnetTrainSettings): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ settings, SIZE, v: 1 }))
    .digest('hex')
    .slice(0, 12);
  return join(tmp, `unet-${key}.json`);
}

interface Saved {
  weights: { shape: number[]; data: number[] }[];
  finalLoss: number;
  trainSeconds: number;
}

/**
 * Train the U-Net unless its weights are cached: Adam on the epsilon MSE,
 * through {@link coreForward} (the wasm backend has no Conv2DBackpropFilter
 * kernel for the layers model's own training). Returns the largest
 * difference between the core forward and the layers model on one batch
 * (they share the weights, so it must be float round-off).
 */
export async function trainUnetIfNeeded(
  schedule: DiscreteVpSchedule,
  settings: UnetTrainSettings,
  log = console.log,
): Promise<void> {
  const file = cacheFile(settings);
  if (existsSync(file)) return;
  const unet = buildUnet(settings.c1, settings.c2, settings.seed);
  const params = paramsFrom(unet);
  const opt = tf.train.adam(settings.lr);
  const rng = new PortableRng(settings.seed + 77);
  const T = schedule.alphasCumprod.length;
  const losses: number[] = [];
  const t0 = performance.now();
  const n = settings.batch;
  for (let step = 0; step < settings.steps; step++) {
    const x0 = diskImages(rng, n);
    const eps = Float32Array.from(rng.normals(n * SIZE * SIZE));
    const ts = Array.from({ length: n }, () => Math.floor(rng.uniform() * T));
    const xt = new Float32Array(x0.length);
    ts.forEach((t, i) => {
      const a = Math.sqrt(schedule.alphasCumprod[t]!);
      const s = Math.sqrt(1 - schedule.alphasCumprod[t]!);
      for (let p = 0; p < SIZE * SIZE; p++) {
        const j = i * SIZE * SIZE + p;
        xt[j] = a * x0[j]! + s * eps[j]!;
      }
    });
    const inputs = [
      tf.tensor4d(xt, [n, SIZE, SIZE, 1]),
      timePlanesBatch(schedule, ts, SIZE),
      timePlanesBatch(schedule, ts, SIZE / 2),
    ];
    const target = tf.tensor4d(eps, [n, SIZE, SIZE, 1]);
    const lossT = opt.minimize(() => {
      const pred = coreForward(params, inputs[0]!, inputs[1]!, inputs[2]!);
      return tf.mean(tf.square(tf.sub(pred, target))) as tf.Scalar;
    }, true)!;
    const loss = lossT.dataSync()[0]!;
    tf.dispose([...inputs, target, lossT]);
    losses.push(loss);
    if (step % 50 === 0 || step === settings.steps - 1)
      log(`  unet step ${step} loss ${loss.toFixed(4)}`);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const tail = losses.slice(-20);
  const finalLoss = tail.reduce((a, b) => a + b, 0) / tail.length;
  writeBack(unet, params);
  // The layers model must compute what was trained.
  const ts = [10, 200, 500, 900];
  const check = [
    tf.randomNormal([4, SIZE, SIZE, 1], 0, 1, 'float32', 5) as tf.Tensor4D,
    timePlanesBatch(schedule, ts, SIZE),
    timePlanesBatch(schedule, ts, SIZE / 2),
  ];
  const gap = tf.tidy(() => {
    const core = coreForward(params, check[0]!, check[1]!, check[2]!);
    const layers = unet.full.predict(check) as tf.Tensor;
    return tf.max(tf.abs(tf.sub(core, layers))).dataSync()[0]!;
  });
  tf.dispose(check);
  log(`  unet trained; core vs layers forward max |diff| ${gap.toExponential(2)}`);
  if (!(gap < 1e-3)) throw new Error(`core forward and layers model disagree by ${gap}`);
  const weights = unet.full
    .getWeights()
    .map((w) => ({ shape: w.shape, data: Array.from(w.dataSync()) }));
  mkdirSync(tmp, { recursive: true });
  const saved: Saved = { weights, finalLoss, trainSeconds };
  writeFileSync(file, JSON.stringify(saved));
  unet.full.dispose();
  opt.dispose();
  for (const p of Object.values(params)) tf.dispose([p.kernel, p.bias]);
}

/** Build the U-Net on the current backend with the cached weights of `settings`. */
export function loadUnet(settings: UnetTrainSettings): {
  unet: UNet;
  finalLoss: number;
  trainSeconds: number;
} {
  const saved = JSON.parse(readFileSync(cacheFile(settings), 'utf8')) as Saved;
  const unet = buildUnet(settings.c1, settings.c2, settings.seed);
  const ws = saved.weights.map((w) => tf.tensor(w.data, w.shape));
  unet.full.setWeights(ws);
  tf.dispose(ws);
  return { unet, finalLoss: saved.finalLoss, trainSeconds: saved.trainSeconds };
}
