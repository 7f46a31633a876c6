// One rank of a parallel sampling run on a real worker thread
// (spawnThreadGroup); the parent compares the sample with the in-process run.
import { serveThreadGroupWorker } from '@plexus/collectives';
import {
  createDdim,
  createVpModel,
  DiscreteVpSchedule,
  gmmVpDenoiser,
  paraStepSample,
  patchParallelSample,
  vpGrid,
} from '../src/index.js';
import { mixture } from './oracle-fixture.js';
import { seededNoise } from './parallel-helpers.js';
import { convAttentionNet } from './parallel-net.js';
import { cpuBackend } from './setup.js';

/** What the parent sends to every rank. */
export interface ParallelWorkerTask {
  method: 'distrifusion' | 'parastep';
  steps: number;
  warmupSteps: number;
  shape: number[];
  seed: number;
}

serveThreadGroupWorker(async (group, data) => {
  const task = data as ParallelWorkerTask;
  await cpuBackend();
  const schedule = DiscreteVpSchedule.fromBetaSchedule('linear');
  const model = createVpModel({ schedule });
  const grid = vpGrid(schedule, task.steps, { spacing: 'trailing' });
  const noise = seededNoise(task.shape, task.seed);
  let result: Awaited<ReturnType<typeof paraStepSample>>;
  if (task.method === 'parastep') {
    result = await paraStepSample({
      group,
      denoise: gmmVpDenoiser(mixture),
      model,
      grid,
      noise,
      warmupSteps: task.warmupSteps,
    });
  } else {
    const { net, dispose } = convAttentionNet({ channels: 2, features: 8, attention: 4 });
    result = await patchParallelSample({
      group,
      sampler: createDdim(),
      net,
      model,
      grid,
      noise,
      warmupSteps: task.warmupSteps,
    });
    dispose();
  }
  const sample = Array.from(await result.sample.data());
  result.sample.dispose();
  noise.dispose();
  return { sample, stats: result.stats };
});
