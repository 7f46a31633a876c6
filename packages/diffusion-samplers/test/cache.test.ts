import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  adamsBashforthWeights,
  type CachedNetwork,
  cacheScheduleDp,
  createDpmSolverPlusPlus,
  createFeatureCache,
  createHeun,
  createVpModel,
  DiscreteVpSchedule,
  type FeatureCacheOptions,
  gmmVpDenoiser,
  meanL2,
  reuseErrorMatrix,
  uniformCacheSchedule,
  vpGrid,
} from '../src/index.js';
import { allNoises, DIM, mixture } from './oracle-fixture.js';
import { cpuBackend } from './setup.js';

const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const STEPS = 20;
const grid = vpGrid(schedule, STEPS, { spacing: 'trailing' });
const sampler = createDpmSolverPlusPlus();
const exact = gmmVpDenoiser(mixture);

// A toy network: an expensive "deep" block (here the exact epsilon) and a
// cheap head that mixes it with the input, as a U-Net's skip path would.
const net: CachedNetwork<unknown> = async (x, t, cond, info, cache) => {
  const deep = cache.block('deep', () => exact(x, t, cond, info) as tf.Tensor);
  const out = tf.tidy(() => tf.add(tf.mul(deep, 1), tf.mul(x, 0)));
  deep.dispose();
  return out;
};

let noise: tf.Tensor;
let uncached: Float32Array;

beforeAll(async () => {
  await cpuBackend();
  noise = tf.tensor(Float32Array.from(allNoises().subarray(0, 256 * DIM)), [256, DIM]);
  const out = await sampler.sample({ denoise: exact, model, grid, noise });
  uncached = out.dataSync() as Float32Array;
  out.dispose();
});

async function cachedRun(options: FeatureCacheOptions) {
  const cache = createFeatureCache(options);
  const out = await sampler.sample({ denoise: cache.wrap(net), model, grid, noise });
  const x = out.dataSync();
  out.dispose();
  const stats = { ...cache.stats };
  cache.reset();
  return { error: meanL2(x, uncached, DIM), stats };
}

describe('Adams–Bashforth weights', () => {
  it('reduce to reuse, linear and AB2 extrapolation on equal steps', () => {
    expect(adamsBashforthWeights([10], 9, 0)).toEqual([1]);
    expect(adamsBashforthWeights([10, 11], 9, 1)).toEqual([2, -1]);
    adamsBashforthWeights([10, 11, 12], 9, 2).forEach((w, i) => {
      expect(w).toBeCloseTo([2.5, -2, 0.5][i]!, 12);
    });
    // Weights sum to 1 (constants are reproduced) on any spacing.
    const w = adamsBashforthWeights([5, 7.5, 11, 12], 2, 3);
    expect(w.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(() => adamsBashforthWeights([1], 0, 1)).toThrow(/order 1 needs 2 cached evaluations/);
  });
});

describe('feature cache against the uncached sampler', () => {
  it('an all-full schedule reproduces the uncached sampler exactly and leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const { error, stats } = await cachedRun({ schedule: () => true, order: 2 });
    expect(error).toBe(0);
    expect(stats).toEqual({
      fullCalls: STEPS,
      cachedCalls: 0,
      blocksComputed: STEPS,
      blocksReused: 0,
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('AB extrapolation beats plain reuse at the same budget (half the calls full)', async () => {
    const half = uniformCacheSchedule(STEPS, 2);
    const reuse = await cachedRun({ schedule: half, order: 0 });
    const ab1 = await cachedRun({ schedule: half, order: 1 });
    const ab2 = await cachedRun({ schedule: half, order: 2 });
    console.info(
      `cache error vs uncached (10 of 20 full): reuse ${reuse.error.toExponential(2)}, AB1 ${ab1.error.toExponential(2)}, AB2 ${ab2.error.toExponential(2)}`,
    );
    expect(reuse.stats.fullCalls).toBe(10);
    expect(reuse.error).toBeGreaterThan(0);
    expect(ab1.error).toBeLessThan(reuse.error);
    expect(ab2.error).toBeLessThan(reuse.error);
  });

  it('the dynamic-programming schedule beats the uniform one at the same budget', async () => {
    // Calibration: record the deep features of an uncached run.
    const features: Float32Array[] = [];
    const recorder = createFeatureCache({ schedule: () => true });
    const recordNet: CachedNetwork<unknown> = (x, t, c, info, cache) =>
      net(x, t, c, info, {
        full: true,
        block: (name, compute) =>
          cache.block(name, () => {
            const v = compute();
            features.push(v.dataSync() as Float32Array);
            return v;
          }),
      });
    const out = await sampler.sample({ denoise: recorder.wrap(recordNet), model, grid, noise });
    out.dispose();
    recorder.reset();
    const errors = reuseErrorMatrix(features);
    for (const budget of [5, 8, 10]) {
      const { schedule: dp } = cacheScheduleDp(errors, budget);
      expect(dp.filter(Boolean).length).toBe(budget);
      const uniform = Array.from({ length: STEPS }, (_, i) => i < budget);
      const stride = STEPS / budget;
      for (let i = 0; i < STEPS; i++)
        uniform[i] = Math.floor(i / stride) !== Math.floor((i - 1) / stride) || i === 0;
      const dpRun = await cachedRun({ schedule: dp, order: 0 });
      const uniRun = await cachedRun({ schedule: uniform, order: 0 });
      console.info(
        `budget ${budget}/${STEPS}: DP ${dpRun.error.toExponential(2)} vs uniform ${uniRun.error.toExponential(2)}`,
      );
      expect(uniRun.stats.fullCalls).toBe(budget);
      expect(dpRun.error).toBeLessThanOrEqual(uniRun.error);
    }
  });

  it('works with a two-evaluation sampler (Heun re-evaluates at grid points)', async () => {
    const heun = createHeun();
    const cache = createFeatureCache({ schedule: (call) => call % 2 === 0, order: 1 });
    const before = tf.memory().numTensors;
    const out = await heun.sample({ denoise: cache.wrap(net), model, grid, noise });
    const ref = await heun.sample({ denoise: exact, model, grid, noise });
    const err = meanL2(out.dataSync(), ref.dataSync(), DIM);
    tf.dispose([out, ref]);
    cache.reset();
    expect(tf.memory().numTensors).toBe(before);
    expect(Number.isFinite(err)).toBe(true);
    expect(err).toBeGreaterThan(0);
    expect(err).toBeLessThan(0.5);
  });

  it('the DP is exact on a small brute-forced instance and validates its input', () => {
    const M = 7;
    const E = Array.from({ length: M }, (_, i) =>
      Array.from({ length: M }, (_, j) => (j > i ? ((i * 7 + j * 3) % 5) + (j - i) : 0)),
    );
    const cost = (s: boolean[]) => {
      let last = 0;
      let total = 0;
      for (let j = 1; j < M; j++) {
        if (s[j]) last = j;
        else total += E[last]![j]!;
      }
      return total;
    };
    for (const budget of [1, 2, 3, 4]) {
      let bruteBest = Number.POSITIVE_INFINITY;
      for (let mask = 0; mask < 1 << (M - 1); mask++) {
        const s = [true, ...Array.from({ length: M - 1 }, (_, k) => ((mask >> k) & 1) === 1)];
        if (s.filter(Boolean).length === budget) bruteBest = Math.min(bruteBest, cost(s));
      }
      const { schedule: s, totalError } = cacheScheduleDp(E, budget);
      expect(totalError).toBe(bruteBest);
      expect(cost(s)).toBe(bruteBest);
    }
    expect(() => cacheScheduleDp(E, 0)).toThrow(
      /^@plexus\/diffusion-samplers\/cache-schedule: budget must be an integer in 1\.\.7/,
    );
  });
});
