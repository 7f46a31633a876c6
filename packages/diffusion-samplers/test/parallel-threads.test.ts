import { type SpawnedThreadGroup, spawnThreadGroup } from '@plexus/collectives';
import type * as tf from '@tensorflow/tfjs-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createDdim,
  createEuler,
  createVpModel,
  DiscreteVpSchedule,
  gmmVpDenoiser,
  type ParallelStats,
  paraStepSample,
  patchDenoiserAsDenoiser,
  patchParallelSample,
  vpGrid,
} from '../src/index.js';
import { mixture } from './oracle-fixture.js';
import { inMemoryGroups, relativeError, seededNoise } from './parallel-helpers.js';
import { convAttentionNet } from './parallel-net.js';
import type { ParallelWorkerTask } from './parallel-worker.js';
import { cpuBackend } from './setup.js';

const entry = new URL('./parallel-worker-entry.mjs', import.meta.url);
const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
const model = createVpModel({ schedule });

const running: SpawnedThreadGroup[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((g) => g.terminate()));
});

beforeAll(async () => {
  await cpuBackend();
});

async function onThreads(worldSize: number, task: ParallelWorkerTask) {
  const g = spawnThreadGroup(worldSize, entry, { workerData: task, timeoutMs: 60_000 });
  running.push(g);
  return (await g.results) as { sample: number[]; stats: ParallelStats }[];
}

async function dataOf(t: tf.Tensor): Promise<Float32Array> {
  const d = (await t.data()) as Float32Array;
  t.dispose();
  return d;
}

describe('parallel sampling on worker threads', () => {
  it('DistriFusion on 2 threads equals the in-process run and stays near the sequential sampler', async () => {
    const task: ParallelWorkerTask = {
      method: 'distrifusion',
      steps: 10,
      warmupSteps: 2,
      shape: [1, 8, 8, 2],
      seed: 11,
    };
    const threads = await onThreads(2, task);
    const grid = vpGrid(schedule, task.steps, { spacing: 'trailing' });
    const noise = seededNoise(task.shape, task.seed);
    const { net, dispose } = convAttentionNet({ channels: 2, features: 8, attention: 4 });
    const { groups } = inMemoryGroups(2);
    const local = await Promise.all(
      groups.map((group) =>
        patchParallelSample({
          group,
          sampler: createDdim(),
          net,
          model,
          grid,
          noise,
          warmupSteps: 2,
        }),
      ),
    );
    const inProcess = await dataOf(local[0]!.sample);
    await dataOf(local[1]!.sample);
    const ref = await dataOf(
      await createDdim().sample({ denoise: patchDenoiserAsDenoiser(net), model, grid, noise }),
    );
    dispose();
    noise.dispose();
    for (const r of threads) {
      expect(r.sample).toEqual(Array.from(inProcess));
      expect(r.stats).toEqual(local[0]!.stats);
    }
    const err = relativeError(threads[0]!.sample, ref);
    expect(err).toBeGreaterThan(1e-5);
    expect(err).toBeLessThan(0.3);
  }, 60_000);

  it('ParaStep on 2 threads equals the in-process run and stays near Euler', async () => {
    const task: ParallelWorkerTask = {
      method: 'parastep',
      steps: 20,
      warmupSteps: 1,
      shape: [128, 2],
      seed: 12,
    };
    const threads = await onThreads(2, task);
    const grid = vpGrid(schedule, task.steps, { spacing: 'trailing' });
    const noise = seededNoise(task.shape, task.seed);
    const denoise = gmmVpDenoiser(mixture);
    const { groups } = inMemoryGroups(2);
    const local = await Promise.all(
      groups.map((group) => paraStepSample({ group, denoise, model, grid, noise, warmupSteps: 1 })),
    );
    const inProcess = await dataOf(local[0]!.sample);
    await dataOf(local[1]!.sample);
    const ref = await dataOf(await createEuler().sample({ denoise, model, grid, noise }));
    noise.dispose();
    for (const [r, t] of threads.entries()) {
      expect(t.sample).toEqual(Array.from(inProcess));
      expect(t.stats).toEqual(local[r]!.stats);
    }
    const err = relativeError(threads[0]!.sample, ref);
    expect(err).toBeGreaterThan(1e-5);
    expect(err).toBeLessThan(0.05);
  }, 60_000);
});
