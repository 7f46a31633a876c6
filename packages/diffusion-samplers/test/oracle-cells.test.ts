import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createDdim,
  createDpmSolverPlusPlus,
  createEuler,
  createHeun,
  createVpModel,
  DiscreteVpSchedule,
  gmmVpDenoiser,
  meanL2,
  type SamplerV1,
  vpGrid,
} from '../src/index.js';
import {
  allNoises,
  anchorGrid,
  DIM,
  dataset,
  mixture,
  type OracleCell,
  reference,
  referenceEndpoints,
} from './oracle-fixture.js';
import { cpuBackend } from './setup.js';

const schedule = DiscreteVpSchedule.fromBetaSchedule('linear', {
  numTrainTimesteps: 1000,
  betaStart: 1e-4,
  betaEnd: 0.02,
});
const model = createVpModel({ schedule });

function samplerFor(cell: OracleCell): SamplerV1 {
  switch (cell.solver) {
    case 'ddim':
      return createDdim({ eta: 0 });
    case 'euler':
      return createEuler();
    case 'heun':
      return createHeun();
    case 'dpmpp_2m':
      return createDpmSolverPlusPlus({ order: 2, solverType: 'midpoint' });
  }
}

describe('exact Gaussian-mixture oracle (anchor table)', () => {
  let noise: tf.Tensor;
  let ref: Float64Array;
  beforeAll(async () => {
    await cpuBackend();
    const nErr = dataset.n_err;
    noise = tf.tensor(Float32Array.from(allNoises().subarray(0, nErr * DIM)), [nErr, DIM]);
    ref = referenceEndpoints();
  });

  it('builds the anchor grids exactly', () => {
    for (const family of ['trailing', 'karras'] as const)
      for (const n of [3, 5, 10, 20, 25, 50]) {
        const ours = vpGrid(schedule, n, { spacing: family });
        const theirs = anchorGrid(family, n);
        expect(ours.sigmas.length).toBe(theirs.sigmas.length);
        theirs.sigmas.forEach((s, i) => {
          expect(Math.abs(ours.sigmas[i]! - s)).toBeLessThanOrEqual(1e-12 * Math.max(1, s));
        });
        if (theirs.timesteps !== null)
          expect(Array.from(ours.timesteps!)).toEqual(theirs.timesteps);
      }
  });

  const maxRel: Record<string, number> = {};
  for (const cell of reference.results) {
    const label = `${cell.solver} / ${cell.grid} / B=${cell.nfe_budget}`;
    it(`reproduces ${label} to 1e-3 relative`, async () => {
      const sampler = samplerFor(cell);
      const grid = vpGrid(schedule, cell.steps, { spacing: cell.grid });
      let calls = 0;
      const base = gmmVpDenoiser(mixture);
      const out = await sampler.sample({
        denoise: (x, t, c, info) => {
          calls++;
          return base(x, t, c, info);
        },
        model,
        grid,
        noise,
      });
      const x = out.dataSync();
      out.dispose();
      // NFE accounting: one batched call per model evaluation.
      expect(calls).toBe(cell.nfe);
      expect(sampler.nfe(cell.steps)).toBe(cell.nfe);
      const err = meanL2(x, ref, DIM, dataset.n_err);
      const rel = Math.abs(err - cell.mean_l2) / cell.mean_l2;
      const family = `${cell.solver}/${cell.grid}`;
      maxRel[family] = Math.max(maxRel[family] ?? 0, rel);
      expect(rel).toBeLessThan(1e-3);
      // Port checks: sample 0 and the mean coordinate, at float32 round-off scale.
      const scale = Math.max(1, Math.abs(cell.probe_sample0[0]));
      expect(Math.abs(x[0]! - cell.probe_sample0[0])).toBeLessThan(1e-3 * scale);
      expect(Math.abs(x[1]! - cell.probe_sample0[1])).toBeLessThan(1e-3 * scale);
      let mean = 0;
      for (let i = 0; i < dataset.n_err * DIM; i++) mean += x[i]!;
      mean /= dataset.n_err * DIM;
      expect(Math.abs(mean - cell.probe_mean)).toBeLessThan(1e-4);
    });
  }

  it('keeps every family within 1e-4 relative (float32 port)', () => {
    // Printed for the README table; the anchor says float32 moves cells < 1e-4.
    console.info('max relative error per family', JSON.stringify(maxRel));
    for (const v of Object.values(maxRel)) expect(v).toBeLessThan(1e-4);
  });
});
