import { type AdamW, type CausalLM, configToJson } from '@plexus/models';
import * as tf from '@tensorflow/tfjs-core';
import type { CheckpointSnapshot } from './checkpoint/async-checkpointer.js';
import {
  CHECKPOINT_FORMAT,
  PREFIX,
  type RunIdentity,
  type TrainerState,
} from './checkpoint/format.js';
import type { LoadedCheckpoint } from './checkpoint/load.js';
import type { WindowLoader } from './data-loader.js';

/** Outer DiLoCo state kept in checkpoints: the shared parameters and the outer momentum. */
export interface OuterState {
  readonly anchor: Float32Array;
  readonly momentum: Float32Array;
}

/**
 * Take the step-boundary snapshot of everything a resumed run needs: model
 * parameters, AdamW moments and step, the data loader's generator and
 * position. Tensors are cloned (shared, immutable buffers: no copy now).
 */
export function snapshotTrainingState(
  step: number,
  model: CausalLM,
  optimizer: AdamW,
  loader: WindowLoader,
  identity: RunIdentity,
  lastLoss: number | null,
  outer?: OuterState,
): CheckpointSnapshot {
  const tensors = new Map<string, tf.Tensor>();
  const opt = optimizer.state();
  for (const [name, p] of model.params) {
    tensors.set(PREFIX.model + name, tf.clone(p));
    tensors.set(PREFIX.adamM + name, tf.clone(opt.m.get(name)!));
    tensors.set(PREFIX.adamV + name, tf.clone(opt.v.get(name)!));
  }
  if (outer) {
    tensors.set(PREFIX.outerAnchor, tf.tensor1d(outer.anchor.slice()));
    tensors.set(PREFIX.outerMomentum, tf.tensor1d(outer.momentum.slice()));
  }
  const trainer: TrainerState = {
    format: CHECKPOINT_FORMAT,
    step,
    optimizerStep: opt.step,
    loader: loader.state(),
    config: configToJson(model.config),
    identity,
    lastLoss,
  };
  return { trainer, tensors };
}

/** Why a checkpoint cannot continue this run, or undefined when it can. */
export function identityMismatch(
  saved: RunIdentity,
  current: RunIdentity,
  savedConfig: Record<string, unknown>,
  config: Record<string, unknown>,
): string | undefined {
  for (const key of Object.keys(current) as Array<keyof RunIdentity>)
    if (saved[key] !== current[key])
      return `it was made with ${key} = ${saved[key]}, this run has ${current[key]}`;
  if (JSON.stringify(savedConfig) !== JSON.stringify(config))
    return "its model config differs from this run's";
  return undefined;
}

/** Put a verified checkpoint's parameters, optimizer state and loader position back. */
export function restoreTrainingState(
  ckpt: LoadedCheckpoint,
  model: CausalLM,
  optimizer: AdamW,
  loader: WindowLoader,
): OuterState | undefined {
  const m = new Map<string, Float32Array>();
  const v = new Map<string, Float32Array>();
  for (const [name, p] of model.params) {
    const values = ckpt.tensors.get(PREFIX.model + name);
    if (!values || values.length !== p.size)
      throw new Error(`checkpoint ${ckpt.dir} lacks parameter ${name} of ${p.size} values`);
    tf.tidy(() => p.assign(tf.tensor(values, p.shape, 'float32')));
    m.set(name, ckpt.tensors.get(PREFIX.adamM + name)!);
    v.set(name, ckpt.tensors.get(PREFIX.adamV + name)!);
  }
  optimizer.setState(ckpt.trainer.optimizerStep, m, v);
  loader.restore(ckpt.trainer.loader);
  const anchor = ckpt.tensors.get(PREFIX.outerAnchor);
  const momentum = ckpt.tensors.get(PREFIX.outerMomentum);
  return anchor && momentum ? { anchor, momentum } : undefined;
}
