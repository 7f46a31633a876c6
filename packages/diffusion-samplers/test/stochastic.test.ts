import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createDdpm,
  createDpmSolverPlusPlus,
  createEulerAncestral,
  createHeun,
  createVpModel,
  DiscreteVpSchedule,
  gmmVpDenoiser,
  PortableRng,
  type SamplerV1,
  sampleGmm,
  slicedW2,
  vpGrid,
} from '../src/index.js';
import { allNoises, DIM, dataset, mixture } from './oracle-fixture.js';
import { cpuBackend } from './setup.js';

// Stochastic samplers cannot match reference end points, so their sample sets
// are compared with exact mixture samples by sliced W2. The threshold is not a
// constant: a permutation null (pool both sets, split at random, recompute)
// says how large SW2 gets when both halves come from one distribution; a
// sampler passes if its SW2 is not in the top 1% of that null.
const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const N = 1024;
const ANGLES = 32;
const PERMUTATIONS = 200;

function permutationPValue(
  a: Float64Array,
  b: Float64Array,
  seed: number,
): { sw2: number; p: number } {
  const observed = slicedW2(a, b, ANGLES);
  const pool = Float64Array.from([...a, ...b]);
  const n = a.length / DIM;
  const rng = new PortableRng(seed);
  const idx = Array.from({ length: 2 * n }, (_, i) => i);
  const left = new Float64Array(n * DIM);
  const right = new Float64Array(n * DIM);
  let atLeast = 0;
  for (let p = 0; p < PERMUTATIONS; p++) {
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform() * (i + 1));
      [idx[i], idx[j]] = [idx[j]!, idx[i]!];
    }
    for (let i = 0; i < n; i++)
      for (let d = 0; d < DIM; d++) {
        left[i * DIM + d] = pool[idx[i]! * DIM + d]!;
        right[i * DIM + d] = pool[idx[n + i]! * DIM + d]!;
      }
    if (slicedW2(left, right, ANGLES) >= observed) atLeast++;
  }
  return { sw2: observed, p: (atLeast + 1) / (PERMUTATIONS + 1) };
}

describe('stochastic samplers match the exact mixture (two-sample test)', () => {
  let noise: tf.Tensor;
  let exact: Float64Array;
  beforeAll(async () => {
    await cpuBackend();
    noise = tf.tensor(Float32Array.from(allNoises().subarray(0, N * DIM)), [N, DIM]);
    exact = sampleGmm(mixture, N, dataset.seeds.exact_a);
  });

  async function samples(sampler: SamplerV1, steps: number): Promise<Float64Array> {
    const grid = vpGrid(schedule, steps, { spacing: 'karras' });
    const out = await sampler.sample({
      denoise: gmmVpDenoiser(mixture),
      model,
      grid,
      noise,
      seed: 11,
    });
    const x = Float64Array.from(out.dataSync());
    out.dispose();
    return x;
  }

  const cases: [string, SamplerV1][] = [
    ['ddpm', createDdpm()],
    ['euler-ancestral', createEulerAncestral()],
    ['dpmpp-2m-sde', createDpmSolverPlusPlus({ sde: true })],
    ['heun (EDM churn)', createHeun({ sChurn: 40 })],
  ];
  for (const [name, sampler] of cases) {
    it(`${name} (200 steps) is not distinguishable at the 1% level`, async () => {
      const { sw2, p } = permutationPValue(await samples(sampler, 200), exact, 5);
      console.info(`${name}: SW2 = ${sw2.toFixed(4)}, permutation p = ${p.toFixed(3)}`);
      expect(p).toBeGreaterThan(0.01);
    });
  }

  it('the test has power: too few steps or no injected noise are rejected', async () => {
    const coarse = permutationPValue(await samples(createEulerAncestral(), 4), exact, 5);
    const noNoise = permutationPValue(
      await samples(createEulerAncestral({ sNoise: 0 }), 50),
      exact,
      5,
    );
    console.info(
      `controls: 4 steps p = ${coarse.p.toFixed(3)}, sNoise 0 p = ${noNoise.p.toFixed(3)}`,
    );
    expect(coarse.p).toBeLessThan(0.01);
    expect(noNoise.p).toBeLessThan(0.01);
  });
});
