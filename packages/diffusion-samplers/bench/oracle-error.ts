// Error against NFE on the exact Gaussian-mixture oracle task.
import * as tf from '@tensorflow/tfjs-core';
import {
  createVpModel,
  DiscreteVpSchedule,
  gmmVpDenoiser,
  karrasSigmas,
  logLogSlope,
  meanL2,
  sigmaGrid,
  solvePfOde,
  vpGrid,
} from '../src/index.js';
import { allNoises, DIM, dataset, mixture, referenceEndpoints } from '../test/oracle-fixture.js';
import { zoo } from './zoo.js';

const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });
const denoise = gmmVpDenoiser(mixture);

/** One (sampler, grid, budget) cell of the error-vs-NFE table. */
export interface ErrorRow {
  sampler: string;
  grid: 'trailing' | 'karras';
  budget: number;
  steps: number;
  nfe: number;
  meanL2: number;
}

/** Mean L2 to the reference end points (sigma = 0) over the first n_err noises. */
export async function errorVsNfe(budgets: number[]): Promise<ErrorRow[]> {
  const n = dataset.n_err;
  const noise = tf.tensor(Float32Array.from(allNoises().subarray(0, n * DIM)), [n, DIM]);
  const ref = referenceEndpoints();
  const rows: ErrorRow[] = [];
  for (const entry of zoo)
    for (const g of ['trailing', 'karras'] as const)
      for (const budget of budgets) {
        const sampler = entry.make('zero');
        const steps = entry.steps(budget);
        const grid = vpGrid(schedule, steps, { spacing: g });
        const out = await sampler.sample({ denoise, model, grid, noise, checkFinite: false });
        const x = out.dataSync();
        out.dispose();
        rows.push({
          sampler: entry.name,
          grid: g,
          budget,
          steps,
          nfe: sampler.nfe(steps),
          meanL2: meanL2(x, ref, DIM, n),
        });
      }
  noise.dispose();
  return rows;
}

/** Errors over a step ladder and the fitted order of one sampler. */
export interface OrderRow {
  sampler: string;
  steps: number[];
  nfe: number[];
  meanL2: number[];
  order: number;
}

/** Fitted orders of convergence to sigma_min on Karras grids (see test/order.test.ts). */
export async function convergenceOrders(stepsList: number[], samples = 256): Promise<OrderRow[]> {
  const sMax = schedule.sigmaMax;
  const sMin = schedule.sigmaMin;
  const z = allNoises().subarray(0, samples * DIM);
  const noise = tf.tensor(Float32Array.from(z), [samples, DIM]);
  const ref = solvePfOde(
    mixture,
    z.map((v) => v * Math.sqrt(1 + sMax * sMax)),
    sMax,
    sMin,
    4000,
  );
  const a = 1 / Math.sqrt(1 + sMin * sMin);
  const rows: OrderRow[] = [];
  for (const entry of zoo) {
    const sampler = entry.make('min');
    const errs: number[] = [];
    const nfes: number[] = [];
    for (const n of stepsList) {
      const grid = sigmaGrid(karrasSigmas(n + 1, sMin, sMax));
      const out = await sampler.sample({ denoise, model, grid, noise, checkFinite: false });
      errs.push(
        meanL2(
          Float64Array.from(out.dataSync(), (v) => v / a),
          ref,
          DIM,
        ),
      );
      out.dispose();
      nfes.push(sampler.nfe(n, false));
    }
    rows.push({
      sampler: entry.name,
      steps: stepsList,
      nfe: nfes,
      meanL2: errs,
      order: -logLogSlope(nfes, errs),
    });
  }
  noise.dispose();
  return rows;
}
