import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createEuler,
  createVpModel,
  type Denoiser,
  DiscreteVpSchedule,
  gaussianField,
  gaussianFieldDenoiser,
  gmmVpDenoiser,
  paraStepLatencyCalls,
  paraStepSample,
  patchDenoiserAsDenoiser,
  vpGrid,
} from '../src/index.js';
import { mixture } from './oracle-fixture.js';
import { inMemoryGroups, relativeError, seededNoise, wireBytes } from './parallel-helpers.js';
import { cpuBackend } from './setup.js';

const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const STEPS = 20;
const grid = vpGrid(schedule, STEPS, { spacing: 'trailing' });
const gmm = gmmVpDenoiser(mixture);
const field = patchDenoiserAsDenoiser(gaussianFieldDenoiser(gaussianField(8, 8)));

async function euler(denoise: Denoiser, noise: tf.Tensor): Promise<Float32Array> {
  const out = await createEuler().sample({ denoise, model, grid, noise });
  const data = (await out.data()) as Float32Array;
  out.dispose();
  return data;
}

async function para(p: number, denoise: Denoiser, noise: tf.Tensor, warmupSteps: number) {
  const { network, groups } = inMemoryGroups(p);
  const results = await Promise.all(
    groups.map((group) => paraStepSample({ group, denoise, model, grid, noise, warmupSteps })),
  );
  const samples = (await Promise.all(results.map((r) => r.sample.data()))) as Float32Array[];
  for (const r of results) r.sample.dispose();
  return { samples, stats: results.map((r) => r.stats), bytes: wireBytes(network) };
}

beforeAll(async () => {
  await cpuBackend();
});

describe('paraStepSample (reuse-then-predict)', () => {
  it('with one rank, or all steps warm, equals Euler bit for bit', async () => {
    const noise = seededNoise([64, 2], 1);
    const ref = await euler(gmm, noise);
    const one = await para(1, gmm, noise, 1);
    expect(Array.from(one.samples[0]!)).toEqual(Array.from(ref));
    const warm = await para(4, gmm, noise, STEPS);
    expect(Array.from(warm.samples[2]!)).toEqual(Array.from(ref));
    expect(warm.bytes).toBe(0);
    noise.dispose();
  });

  it('on the mixture oracle (50 steps): ranks agree, error small, cool-down steps reduce it', async () => {
    const grid50 = vpGrid(schedule, 50, { spacing: 'trailing' });
    const noise = seededNoise([256, 2], 2);
    const refOut = await createEuler().sample({ denoise: gmm, model, grid: grid50, noise });
    const ref = (await refOut.data()) as Float32Array;
    refOut.dispose();
    const before = tf.memory().numTensors;
    const bound: Record<number, number> = { 2: 0.01, 4: 0.06 };
    for (const p of [2, 4]) {
      const errors: number[] = [];
      for (const cooldownSteps of [0, 2]) {
        const { groups } = inMemoryGroups(p);
        const results = await Promise.all(
          groups.map((group) =>
            paraStepSample({ group, denoise: gmm, model, grid: grid50, noise, cooldownSteps }),
          ),
        );
        const samples = (await Promise.all(results.map((r) => r.sample.data()))) as Float32Array[];
        for (const r of results) r.sample.dispose();
        for (const s of samples) expect(Array.from(s)).toEqual(Array.from(samples[0]!));
        errors.push(relativeError(samples[0]!, ref));
        // Warm-up and cool-down run on every rank, the rest once.
        const calls = results.reduce((a, r) => a + r.stats.modelCalls, 0);
        expect(calls).toBe(50 + (p - 1) * (1 + cooldownSteps));
      }
      expect(errors[0]!).toBeGreaterThan(1e-4);
      expect(errors[0]!).toBeLessThan(bound[p]!);
      expect(errors[1]!).toBeLessThan(errors[0]!);
    }
    expect(tf.memory().numTensors).toBe(before);
    noise.dispose();
  });

  it('sends P - 1 predictions and one broadcast latent per round', async () => {
    const noise = seededNoise([2, 8, 8, 1], 3);
    const ref = await euler(field, noise);
    const p = 4;
    const warm = 4;
    const { samples, stats, bytes } = await para(p, field, noise, warm);
    expect(relativeError(samples[0]!, ref)).toBeLessThan(0.1);
    const rounds = Math.ceil((STEPS - warm) / p);
    const latent = 2 * 8 * 8 * 4;
    expect(paraStepLatencyCalls(STEPS, p, warm)).toBe(warm + rounds);
    expect(paraStepLatencyCalls(STEPS, p, warm, 3)).toBe(
      warm + Math.ceil((STEPS - warm - 3) / p) + 3,
    );
    const payload = stats.reduce((a, s) => a + s.payloadBytes, 0);
    expect(payload).toBe(rounds * p * latent); // (P-1) sends + 1 broadcast root buffer
    // A binomial-tree broadcast reaches P - 1 ranks with one copy each.
    expect(bytes).toBe(rounds * (p - 1 + p - 1) * latent);
    noise.dispose();
  });

  it('rejects a warm-up below 1 and a bad grid before any model call', async () => {
    const noise = seededNoise([4, 2], 4);
    const { groups } = inMemoryGroups(2);
    let calls = 0;
    const denoise: Denoiser = (x) => {
      calls++;
      return tf.zerosLike(x);
    };
    await expect(
      paraStepSample({ group: groups[0]!, denoise, model, grid, noise, warmupSteps: 0 }),
    ).rejects.toThrow(/parallel\/parastep: warmupSteps must be an integer >= 1, got 0/);
    await expect(
      paraStepSample({
        group: groups[0]!,
        denoise,
        model,
        grid: { sigmas: Float64Array.from([1, 2, 0]) },
        noise,
      }),
    ).rejects.toThrow(/@plexus\/diffusion-samplers\/parallel\/parastep/);
    expect(calls).toBe(0);
    noise.dispose();
  });
});
