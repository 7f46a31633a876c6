import type { CollectiveGroupV1 } from '@plexus/collectives';
import type * as tf from '@tensorflow/tfjs-core';
import { DiffusionSamplersError } from '../errors.js';

/** Checks the group handle every parallel sampler needs. */
export function checkGroup(
  module: string,
  group: CollectiveGroupV1 | undefined,
): CollectiveGroupV1 {
  if (
    group === undefined ||
    typeof group.allGather !== 'function' ||
    !Number.isInteger(group.worldSize) ||
    group.worldSize < 1
  )
    throw new DiffusionSamplersError(
      module,
      'group must be a CollectiveGroupV1 from @plexus/collectives (e.g. createTransportGroup, spawnThreadGroup)',
    );
  return group;
}

/** Checks a step count option (warm-up, cool-down): an integer >= `min`. */
export function checkWarmup(
  module: string,
  value: number,
  min: number,
  name = 'warmupSteps',
): number {
  if (!Number.isInteger(value) || value < min)
    throw new DiffusionSamplersError(module, `${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/** Checks the full-size noise every rank passes. */
export function checkNoise(
  module: string,
  noise: tf.Tensor | undefined,
  minRank: number,
): tf.Tensor {
  if (noise === undefined || !Array.isArray(noise.shape) || noise.shape.length < minRank)
    throw new DiffusionSamplersError(
      module,
      `noise must be a float32 tf.Tensor of rank >= ${minRank} (batch first), the same on every rank`,
    );
  if (noise.dtype !== 'float32')
    throw new DiffusionSamplersError(module, `noise must be float32, got ${noise.dtype}`);
  return noise;
}
