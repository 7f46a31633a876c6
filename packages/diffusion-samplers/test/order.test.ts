import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createDpmSolverPlusPlus,
  createEuler,
  createHeun,
  createLms,
  createPndm,
  createUniPc,
  createVpModel,
  DiscreteVpSchedule,
  gmmVpDenoiser,
  karrasSigmas,
  logLogSlope,
  meanL2,
  type SamplerV1,
  sigmaGrid,
  solvePfOde,
} from '../src/index.js';
import { allNoises, DIM, mixture } from './oracle-fixture.js';
import { cpuBackend } from './setup.js';

// Orders of convergence on the oracle task (same mixture, schedule, noises),
// integrated from sigma_max to sigma_min = sigma(t=0) on Karras grids. The
// step into sigma = 0 is left out: every solver takes it to first order
// (the exact limit xbar = D), which adds an N-independent error of ~1e-3
// and would hide every order above 1.
const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const N_SAMPLES = 128;
const STEPS = [40, 80, 160, 320];
const sMax = schedule.sigmaMax;
const sMin = schedule.sigmaMin;

interface Case {
  sampler: SamplerV1;
  order: number;
  /** Accepted interval for the fitted order. */
  lo: number;
  hi: number;
}

const cases: Record<string, Case> = {
  euler: { sampler: createEuler(), order: 1, lo: 0.75, hi: 1.25 },
  heun: { sampler: createHeun(), order: 2, lo: 1.8, hi: 2.4 },
  'dpmpp-2m': {
    sampler: createDpmSolverPlusPlus({ lowerOrderFinal: false }),
    order: 2,
    lo: 1.8,
    hi: 2.4,
  },
  'dpmpp-3m': {
    sampler: createDpmSolverPlusPlus({ order: 3, lowerOrderFinal: false }),
    order: 3,
    lo: 2.7,
    hi: 3.6,
  },
  // UniPC-p with the corrector is order p + 1 (paper, Theorem 3.3).
  'unipc-2': {
    sampler: createUniPc({ order: 2, lowerOrderFinal: false }),
    order: 3,
    lo: 2.6,
    hi: 3.5,
  },
  'unipc-2-bh1': {
    sampler: createUniPc({ order: 2, variant: 'bh1', lowerOrderFinal: false }),
    order: 3,
    lo: 2.6,
    hi: 3.5,
  },
  'unipc-3': {
    sampler: createUniPc({ order: 3, lowerOrderFinal: false }),
    order: 4,
    lo: 3.4,
    hi: 4.6,
  },
  // Without the corrector UniP-2 (bh2) is DPM-Solver++ 2M: order 2.
  'unip-2': {
    sampler: createUniPc({ order: 2, lowerOrderFinal: false, corrector: false }),
    order: 2,
    lo: 1.8,
    hi: 2.4,
  },
  // Variable-step Adams–Bashforth 4; still pre-asymptotic at these NFE.
  lms: { sampler: createLms({ order: 4 }), order: 4, lo: 3.2, hi: 4.6 },
  // PLMS uses equal-step weights on an unequal grid: order 2 here.
  pndm: { sampler: createPndm(), order: 2, lo: 1.8, hi: 2.5 },
};

describe('order of convergence on the oracle task', () => {
  let noise: tf.Tensor;
  let ref: Float64Array;
  beforeAll(async () => {
    await cpuBackend();
    const z = allNoises().subarray(0, N_SAMPLES * DIM);
    noise = tf.tensor(Float32Array.from(z), [N_SAMPLES, DIM]);
    const xT = z.map((v) => v * Math.sqrt(1 + sMax * sMax));
    ref = solvePfOde(mixture, xT, sMax, sMin, 4000);
  });

  const measured: Record<string, number> = {};
  for (const [name, c] of Object.entries(cases)) {
    it(`${name} converges at order ${c.order}`, async () => {
      const errs: number[] = [];
      const nfes: number[] = [];
      for (const n of STEPS) {
        const grid = sigmaGrid(karrasSigmas(n + 1, sMin, sMax));
        const out = await c.sampler.sample({
          denoise: gmmVpDenoiser(mixture),
          model,
          grid,
          noise,
          checkFinite: false,
        });
        const a = 1 / Math.sqrt(1 + sMin * sMin);
        const x = Float64Array.from(out.dataSync(), (v) => v / a);
        out.dispose();
        errs.push(meanL2(x, ref, DIM));
        nfes.push(c.sampler.nfe(n, false));
      }
      const order = -logLogSlope(nfes, errs);
      measured[name] = order;
      expect(order).toBeGreaterThan(c.lo);
      expect(order).toBeLessThan(c.hi);
    });
  }

  it('diffusers-compatible 3M weights are only second order (documented deviation)', async () => {
    const sampler = createDpmSolverPlusPlus({
      order: 3,
      lowerOrderFinal: false,
      thirdOrder: 'diffusers',
    });
    const errs: number[] = [];
    for (const n of [160, 320]) {
      const out = await sampler.sample({
        denoise: gmmVpDenoiser(mixture),
        model,
        grid: sigmaGrid(karrasSigmas(n + 1, sMin, sMax)),
        noise,
        checkFinite: false,
      });
      const a = 1 / Math.sqrt(1 + sMin * sMin);
      errs.push(
        meanL2(
          Float64Array.from(out.dataSync(), (v) => v / a),
          ref,
          DIM,
        ),
      );
      out.dispose();
    }
    const order = Math.log(errs[0]! / errs[1]!) / Math.log(2);
    measured['dpmpp-3m (diffusers weights)'] = order;
    expect(order).toBeLessThan(2.6);
    console.info('measured orders', JSON.stringify(measured));
  });
});
