// Cache error against the uncached sampler on the oracle task, per budget:
// plain reuse (DeepCache), AB-Cache orders 1-2 on a uniform schedule, and the
// DP schedule from a calibration run. The "deep block" is the exact epsilon.
import * as tf from '@tensorflow/tfjs-core';
import {
  type CachedNetwork,
  cacheScheduleDp,
  createDpmSolverPlusPlus,
  createFeatureCache,
  createVpModel,
  DiscreteVpSchedule,
  gmmVpDenoiser,
  meanL2,
  reuseErrorMatrix,
  vpGrid,
} from '../src/index.js';
import { allNoises, DIM, mixture } from '../test/oracle-fixture.js';

/** One cache configuration and its error against the uncached sampler. */
export interface CacheRow {
  budget: number;
  calls: number;
  schedule: 'uniform' | 'dp';
  order: number;
  errorVsUncached: number;
}

function uniformSchedule(calls: number, budget: number): boolean[] {
  const stride = calls / budget;
  return Array.from(
    { length: calls },
    (_, i) => i === 0 || Math.floor(i / stride) !== Math.floor((i - 1) / stride),
  );
}

/** Cache error for every budget, schedule kind (uniform, DP) and AB order 0-2. */
export async function cacheErrors(steps = 20, budgets = [4, 5, 8, 10, 15]): Promise<CacheRow[]> {
  const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
  const model = createVpModel({ schedule });
  const grid = vpGrid(schedule, steps, { spacing: 'trailing' });
  const sampler = createDpmSolverPlusPlus();
  const exact = gmmVpDenoiser(mixture);
  const noise = tf.tensor(Float32Array.from(allNoises().subarray(0, 1024 * DIM)), [1024, DIM]);
  const base = await sampler.sample({ denoise: exact, model, grid, noise });
  const uncached = base.dataSync();
  base.dispose();
  const features: Float32Array[] = [];
  const net: CachedNetwork<unknown> = (x, t, c, info, cache) =>
    cache.block('deep', () => exact(x, t, c, info) as tf.Tensor);
  const recorder: CachedNetwork<unknown> = (x, t, c, info) => {
    const v = exact(x, t, c, info) as tf.Tensor;
    features.push(v.dataSync() as Float32Array);
    return v;
  };
  const cal = await sampler.sample({
    denoise: createFeatureCache({ schedule: () => true }).wrap(recorder),
    model,
    grid,
    noise,
  });
  cal.dispose();
  const errors = reuseErrorMatrix(features);
  const rows: CacheRow[] = [];
  for (const budget of budgets) {
    const plans: [CacheRow['schedule'], boolean[]][] = [
      ['uniform', uniformSchedule(steps, budget)],
      ['dp', cacheScheduleDp(errors, budget).schedule],
    ];
    for (const [kind, plan] of plans)
      for (const order of [0, 1, 2]) {
        const cache = createFeatureCache({ schedule: plan, order });
        const out = await sampler.sample({ denoise: cache.wrap(net), model, grid, noise });
        rows.push({
          budget,
          calls: steps,
          schedule: kind,
          order,
          errorVsUncached: meanL2(out.dataSync(), uncached, DIM),
        });
        out.dispose();
        cache.reset();
      }
  }
  noise.dispose();
  return rows;
}
