import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createDdim,
  createDpmSolverPlusPlus,
  createEulerAncestral,
  createVpModel,
  DiffusionSamplersError,
  DiscreteVpSchedule,
  gaussianField,
  gaussianFieldDenoiser,
  type PatchDenoiser,
  patchDenoiserAsDenoiser,
  patchParallelSample,
  type SamplerV1,
  vpGrid,
} from '../src/index.js';
import { inMemoryGroups, relativeError, seededNoise, wireBytes } from './parallel-helpers.js';
import { convAttentionNet } from './parallel-net.js';
import { cpuBackend } from './setup.js';

const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const STEPS = 10;
const grid = vpGrid(schedule, STEPS, { spacing: 'trailing' });
const field = gaussianField(8, 8);
const fieldNet = gaussianFieldDenoiser(field);

async function sequential(sampler: SamplerV1, net: PatchDenoiser, noise: tf.Tensor) {
  const out = await sampler.sample({ denoise: patchDenoiserAsDenoiser(net), model, grid, noise });
  const data = await out.data();
  out.dispose();
  return data as Float32Array;
}

async function parallel(
  worldSize: number,
  sampler: SamplerV1,
  net: PatchDenoiser,
  noise: tf.Tensor,
  warmupSteps: number,
) {
  const { network, groups } = inMemoryGroups(worldSize);
  const results = await Promise.all(
    groups.map((group) =>
      patchParallelSample({ group, sampler, net, model, grid, noise, warmupSteps }),
    ),
  );
  const samples = await Promise.all(results.map((r) => r.sample.data()));
  for (const r of results) r.sample.dispose();
  return {
    samples: samples as Float32Array[],
    stats: results.map((r) => r.stats),
    bytes: wireBytes(network),
  };
}

beforeAll(async () => {
  await cpuBackend();
});

describe('patchParallelSample (DistriFusion) on the Gaussian-field oracle', () => {
  it('with one rank equals the plain sampler bit for bit', async () => {
    const noise = seededNoise([2, 8, 8, 1], 1);
    for (const sampler of [createDdim(), createDpmSolverPlusPlus()]) {
      const ref = await sequential(sampler, fieldNet, noise);
      const { samples } = await parallel(1, sampler, fieldNet, noise, 0);
      expect(Array.from(samples[0]!)).toEqual(Array.from(ref));
    }
    noise.dispose();
  });

  it('is exact with every step warm, and the error shrinks with more warm-up', async () => {
    const noise = seededNoise([2, 8, 8, 1], 2);
    const sampler = createDpmSolverPlusPlus();
    const ref = await sequential(sampler, fieldNet, noise);
    for (const p of [2, 4]) {
      const errors: number[] = [];
      for (const warm of [0, 1, 2, 4, STEPS]) {
        const { samples } = await parallel(p, sampler, fieldNet, noise, warm);
        // Every rank returns the same full sample.
        for (const s of samples) expect(Array.from(s)).toEqual(Array.from(samples[0]!));
        errors.push(relativeError(samples[0]!, ref));
      }
      expect(errors[4]!).toBeLessThan(1e-6);
      expect(errors[0]!).toBeGreaterThan(1e-4); // stale context does change the result
      for (let i = 1; i < errors.length; i++)
        expect(errors[i]!).toBeLessThanOrEqual(errors[i - 1]! * 1.05);
      expect(errors[1]!).toBeLessThan(0.1);
    }
    noise.dispose();
  });

  it('counts its traffic: every all-gathered byte reaches the other P - 1 ranks', async () => {
    const noise = seededNoise([1, 8, 8, 1], 3);
    const p = 4;
    const { stats, bytes } = await parallel(p, createDdim(), fieldNet, noise, 2);
    const patchBytes = 1 * 2 * 8 * 1 * 4;
    for (const s of stats) {
      expect(s.modelCalls).toBe(STEPS);
      expect(s.synchronousExchanges).toBe(2);
      expect(s.staleExchanges).toBe(STEPS - 2);
      // Gathers: 2 warm + 7 async (the last call sends nothing) + the final one.
      expect(s.collectives).toBe(STEPS);
      expect(s.payloadBytes).toBe(STEPS * patchBytes);
    }
    const payload = stats.reduce((a, s) => a + s.payloadBytes, 0);
    expect(bytes).toBe(payload * (p - 1));
    noise.dispose();
  });
});

describe('patchParallelSample on a conv + attention network', () => {
  it('one rank = plain sampler; P ranks: exact when warm, error shrinks with warm-up', async () => {
    const { net, dispose } = convAttentionNet({ channels: 2, features: 8, attention: 4 });
    const noise = seededNoise([1, 8, 8, 2], 4);
    const sampler = createDdim();
    const before = tf.memory().numTensors;
    const ref = await sequential(sampler, net, noise);
    const one = await parallel(1, sampler, net, noise, 0);
    expect(Array.from(one.samples[0]!)).toEqual(Array.from(ref));
    const warm = await parallel(2, sampler, net, noise, STEPS);
    expect(relativeError(warm.samples[0]!, ref)).toBeLessThan(1e-5);
    // A random network over 10 steps moves a lot between steps, so one step
    // of staleness costs ~20% here (the bench shows it shrinking with steps).
    const cold = await parallel(2, sampler, net, noise, 1);
    const err = relativeError(cold.samples[0]!, ref);
    expect(err).toBeGreaterThan(1e-3);
    expect(err).toBeLessThan(0.3);
    const warmer = await parallel(2, sampler, net, noise, 4);
    expect(relativeError(warmer.samples[0]!, ref)).toBeLessThan(err * 0.8);
    expect(tf.memory().numTensors).toBe(before);
    dispose();
    noise.dispose();
  });
});

describe('patchParallelSample input checks', () => {
  it('rejects bad arguments before any model call', async () => {
    const noise = seededNoise([1, 6, 8, 1], 5);
    const { groups } = inMemoryGroups(4);
    let calls = 0;
    const net: PatchDenoiser = (x) => {
      calls++;
      return tf.clone(x);
    };
    const g = groups[0]!;
    await expect(
      patchParallelSample({ group: g, sampler: createDdim(), net, model, grid, noise }),
    ).rejects.toThrow(
      /parallel\/distrifusion: noise axis 1 \(6 rows\) must be divisible by the world size 4/,
    );
    const n8 = seededNoise([1, 8, 8, 1], 5);
    await expect(
      patchParallelSample({
        group: g,
        sampler: createEulerAncestral(),
        net,
        model,
        grid,
        noise: n8,
      }),
    ).rejects.toThrow(DiffusionSamplersError);
    await expect(
      patchParallelSample({
        group: g,
        sampler: createDdim(),
        net,
        model: createVpModel({ schedule, thresholding: { type: 'dynamic' } }),
        grid,
        noise: n8,
      }),
    ).rejects.toThrow(/dynamic thresholding/);
    await expect(
      patchParallelSample({
        group: g,
        sampler: createDdim(),
        net,
        model,
        grid,
        noise: n8,
        warmupSteps: -1,
      }),
    ).rejects.toThrow(/warmupSteps must be an integer >= 0/);
    expect(calls).toBe(0);
    noise.dispose();
    n8.dispose();
  });

  it('rejects an activation exchanged twice in one call', async () => {
    const noise = seededNoise([1, 8, 8, 1], 6);
    const { groups } = inMemoryGroups(1);
    const net: PatchDenoiser = async (x, _t, _c, _i, ctx) => {
      (await ctx.exchange('a', x)).dispose();
      return ctx.exchange('a', x);
    };
    await expect(
      patchParallelSample({ group: groups[0]!, sampler: createDdim(), net, model, grid, noise }),
    ).rejects.toThrow(/exchange\('a'\) called twice/);
    noise.dispose();
  });
});
