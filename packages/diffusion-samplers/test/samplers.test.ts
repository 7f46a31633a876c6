import * as tf from '@tensorflow/tfjs-core';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createDdim,
  createDdpm,
  createEuler,
  createEulerAncestral,
  createHeun,
  createVpModel,
  DiffusionSamplersError,
  DiscreteVpSchedule,
  gmmVpDenoiser,
  karrasSigmas,
  type SamplingGrid,
  StepNoise,
  vpGrid,
} from '../src/index.js';
import { allSamplers } from './helpers.js';
import { allNoises, DIM, mixture } from './oracle-fixture.js';
import { cpuBackend } from './setup.js';

const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const oracle = gmmVpDenoiser(mixture);
let noise: tf.Tensor;

beforeAll(async () => {
  await cpuBackend();
  noise = tf.tensor(Float32Array.from(allNoises().subarray(0, 64 * DIM)), [64, DIM]);
});

async function run(
  sampler: ReturnType<typeof createEuler>,
  grid: SamplingGrid,
  seed = 0,
): Promise<Float32Array> {
  const out = await sampler.sample({ denoise: oracle, model, grid, noise, seed });
  const data = out.dataSync() as Float32Array;
  out.dispose();
  return data;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('sampler invariants', () => {
  it('DDIM with eta = 0 equals Euler on any grid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 30 }),
        fc.constantFrom('leading', 'trailing', 'linspace', 'karras', 'exponential' as const),
        fc.constantFrom('zero', 'min' as const),
        async (n, spacing, final) => {
          const grid = vpGrid(schedule, n, { spacing, final });
          const a = await run(createDdim({ eta: 0 }), grid);
          const b = await run(createEuler(), grid);
          // Float32 round-off of xbar (up to ~500 at sigma_max) is ~3e-5.
          expect(maxAbsDiff(a, b)).toBeLessThan(2e-4);
        },
      ),
      { numRuns: 12 },
    );
    // And on an arbitrary decreasing grid.
    const custom = { sigmas: Float64Array.from([80, 13, 2.2, 0.9, 0.05, 0]) };
    expect(
      maxAbsDiff(await run(createDdim(), custom), await run(createEuler(), custom)),
    ).toBeLessThan(2e-5);
  });

  it('DDPM (fixed_small) = DDIM eta = 1 = Euler ancestral eta = 1 for the same noise', async () => {
    const grid = vpGrid(schedule, 25, { spacing: 'trailing' });
    const a = await run(createDdpm(), grid, 7);
    const b = await run(createDdim({ eta: 1 }), grid, 7);
    const c = await run(createEulerAncestral({ eta: 1 }), grid, 7);
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-4);
    expect(maxAbsDiff(b, c)).toBeLessThan(1e-4);
    // A different seed gives different samples.
    expect(maxAbsDiff(a, await run(createDdpm(), grid, 8))).toBeGreaterThan(1e-2);
  });

  it('stochastic samplers are reproducible from their seed', async () => {
    const grid = vpGrid(schedule, 10, { spacing: 'karras' });
    for (const sampler of Object.values(allSamplers()).filter((s) => s.stochastic)) {
      expect(maxAbsDiff(await run(sampler, grid, 3), await run(sampler, grid, 3))).toBe(0);
    }
  });

  it('counts NFE as it states and leaks no tensors', async () => {
    const grid = vpGrid(schedule, 7, { spacing: 'trailing' });
    const minGrid = vpGrid(schedule, 7, { spacing: 'karras', final: 'min' });
    await run(createEuler(), grid); // warm tfjs kernels
    for (const [name, sampler] of Object.entries(allSamplers())) {
      for (const [g, zero] of [
        [grid, true],
        [minGrid, false],
      ] as const) {
        const before = tf.memory().numTensors;
        let calls = 0;
        const out = await sampler.sample({
          denoise: (x, t, c, info) => {
            calls++;
            return oracle(x, t, c, info);
          },
          model,
          grid: g,
          noise,
          seed: 1,
        });
        out.dispose();
        expect(tf.memory().numTensors, name).toBe(before);
        expect(calls, name).toBe(sampler.nfe(7, zero));
      }
      expect(sampler.specificationVersion).toBe('v1');
    }
  });
});

describe('bad input is reported before any model call', () => {
  const neverCalled = () => {
    throw new Error('model must not be called');
  };

  it.each([
    [[10, 5, 7, 0], /strictly decreasing/],
    [[10, 5, -1], /non-negative/],
  ])('sigma schedule %j', async (sigmas, message) => {
    for (const sampler of Object.values(allSamplers())) {
      await expect(
        sampler.sample({
          denoise: neverCalled,
          model,
          grid: { sigmas: Float64Array.from(sigmas) },
          noise,
        }),
      ).rejects.toThrow(message);
    }
  });

  it('zero or negative NFE', () => {
    for (const sampler of Object.values(allSamplers())) {
      expect(() => sampler.nfe(0)).toThrow(/steps must be a positive integer, got 0/);
      expect(() => sampler.nfe(-2)).toThrow(/positive integer/);
    }
    expect(() => karrasSigmas(0, 0.1, 10)).toThrow(/^@plexus\/diffusion-samplers\/grid: /);
  });

  it('a denoise result of the wrong shape, with the step', async () => {
    const grid = vpGrid(schedule, 5, { spacing: 'trailing' });
    const before = tf.memory().numTensors;
    const bad = (x: tf.Tensor) => tf.zeros([x.shape[0]!, 3]);
    const error = await createEuler()
      .sample({ denoise: bad, model, grid, noise })
      .catch((e: unknown) => e);
    expect(DiffusionSamplersError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(
      /^@plexus\/diffusion-samplers\/denoise: denoise returned shape \[64, 3\], expected \[64, 2\], at step 0/,
    );
    // The failed run released its tensors (the state x and the bad output).
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
  });

  it('a denoise result with NaN, with the step where it happened', async () => {
    const grid = vpGrid(schedule, 10, { spacing: 'trailing' });
    const nanAtCall3: typeof oracle = (x, t, c, info) =>
      info.call === 3 ? tf.fill(x.shape, Number.NaN) : oracle(x, t, c, info);
    for (const sampler of [createEuler(), createDdim()]) {
      await expect(sampler.sample({ denoise: nanAtCall3, model, grid, noise })).rejects.toThrow(
        /denoise returned NaN or Infinity at step 3 \(sigma = [\d.]+, model call 3\)/,
      );
    }
  });

  it('bad sampler settings', () => {
    expect(() => createDdim({ eta: -1 })).toThrow(
      /^@plexus\/diffusion-samplers\/ddim: eta must be/,
    );
  });
});

describe('sampler noise', () => {
  it('StepNoise is seeded, standard normal and reproducible', () => {
    const a = new StepNoise(3).fill(new Float32Array(20000));
    const b = new StepNoise(3).fill(new Float32Array(20000));
    expect(Array.from(a)).toEqual(Array.from(b));
    let m = 0;
    let v = 0;
    for (const x of a) {
      m += x;
      v += x * x;
    }
    expect(Math.abs(m / a.length)).toBeLessThan(0.03);
    expect(Math.abs(v / a.length - 1)).toBeLessThan(0.05);
    expect(Array.from(new StepNoise(4).fill(new Float32Array(4)))).not.toEqual(
      Array.from(a.slice(0, 4)),
    );
  });

  it('a custom noiseSource replaces it and is shape-checked', async () => {
    const grid = vpGrid(schedule, 5, { spacing: 'karras' });
    const steps: number[] = [];
    const zeros = (shape: readonly number[], step: number) => {
      steps.push(step);
      return tf.zeros(shape.slice());
    };
    const out = await createEulerAncestral().sample({
      denoise: oracle,
      model,
      grid,
      noise,
      noiseSource: zeros,
    });
    out.dispose();
    expect(steps).toEqual([0, 1, 2, 3]);
    await expect(
      createDdpm().sample({
        denoise: oracle,
        model,
        grid,
        noise,
        noiseSource: () => tf.zeros([1]),
      }),
    ).rejects.toThrow(
      /^@plexus\/diffusion-samplers\/noise: noiseSource returned shape \[1\], expected \[64, 2\] at step 0/,
    );
  });
});

describe('model time', () => {
  it('a VP network sees the grid timesteps (integers on trailing grids, timeOf(sigma) elsewhere)', async () => {
    const seen: [number, number][] = [];
    const spy: typeof oracle = (x, t, c, info) => {
      seen.push([t, info.sigma]);
      return oracle(x, t, c, info);
    };
    const trailing = vpGrid(schedule, 10, { spacing: 'trailing' });
    (await createEuler().sample({ denoise: spy, model, grid: trailing, noise })).dispose();
    expect(seen.map(([t]) => t)).toEqual([999, 899, 799, 699, 599, 499, 399, 299, 199, 99]);
    seen.length = 0;
    const karras = vpGrid(schedule, 6, { spacing: 'karras' });
    (await createHeun().sample({ denoise: spy, model, grid: karras, noise })).dispose();
    for (const [t, sigma] of seen) {
      expect(Math.abs(t - schedule.timeOf(sigma))).toBeLessThan(1e-9);
      expect(Math.abs(schedule.sigmaAt(t) / sigma - 1)).toBeLessThan(1e-9);
    }
  });
});
