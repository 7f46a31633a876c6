import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { AsyncCheckpointer } from '../src/lm/checkpoint/async-checkpointer.js';
import { CHECKPOINT_FORMAT, type TrainerState } from '../src/lm/checkpoint/format.js';
import {
  listCheckpoints,
  loadNewestValidCheckpoint,
  readCheckpoint,
} from '../src/lm/checkpoint/load.js';

function trainer(step: number): TrainerState {
  return {
    format: CHECKPOINT_FORMAT,
    step,
    optimizerStep: step,
    loader: { rng: [1, 2, 3, 4], batches: step },
    config: {},
    identity: { seed: 0, batch: 1, seq: 2, workers: 1, diloco: null },
    lastLoss: null,
  };
}

describe('AsyncCheckpointer', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
  });

  it('snapshots at the step boundary, writes in the background, keeps the last 2', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'plexus-ckpt-')), 'checkpoints');
    // A torn write of a killed run: removed, never read.
    mkdirSync(join(dir, '.tmp-step-00000009-1-x'), { recursive: true });
    const before = tf.memory().numTensors;
    const w = tf.tidy(() => tf.variable(tf.tensor1d([1, 2, 3])));
    const committed: number[] = [];
    const ckpt = new AsyncCheckpointer(dir, { onCommitted: (c) => committed.push(c.step) });
    expect(readdirSync(dir)).toEqual([]);
    for (let step = 1; step <= 3; step++) {
      await ckpt.save({ trainer: trainer(step), tensors: new Map([['model/w', tf.clone(w)]]) });
      // save() returns before the checkpoint is on disk: training goes on meanwhile ...
      expect(existsSync(join(dir, `step-0000000${step}`))).toBe(false);
      // ... and changes the live weights, which must not leak into the snapshot.
      tf.tidy(() => w.assign(tf.mul(w, 10)));
    }
    await ckpt.flush();
    expect(committed).toEqual([1, 2, 3]);
    expect(listCheckpoints(dir).map((p) => p.slice(-13))).toEqual([
      'step-00000003',
      'step-00000002',
    ]);
    expect(Array.from(readCheckpoint(join(dir, 'step-00000003')).tensors.get('model/w')!)).toEqual([
      100, 200, 300,
    ]);
    expect(Array.from(readCheckpoint(join(dir, 'step-00000002')).tensors.get('model/w')!)).toEqual([
      10, 20, 30,
    ]);
    w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects torn and tampered checkpoints with the reason', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'plexus-ckpt-')), 'checkpoints');
    const ckpt = new AsyncCheckpointer(dir);
    await ckpt.save({ trainer: trainer(4), tensors: new Map([['model/w', tf.ones([2])]]) });
    await ckpt.save({ trainer: trainer(8), tensors: new Map([['model/w', tf.zeros([2])]]) });
    await ckpt.flush();
    const newest = join(dir, 'step-00000008');
    writeFileSync(join(newest, 'trainer.json'), JSON.stringify(trainer(7)));
    const warnings: string[] = [];
    const got = loadNewestValidCheckpoint(dir, (l) => warnings.push(l));
    expect(got?.trainer.step).toBe(4);
    expect(warnings[0]).toMatch(
      /step-00000008 is not usable \(trainer.json has \d+ bytes; the manifest says \d+\)/,
    );
    // A directory without a manifest (e.g. copied by hand, half-way) is not a checkpoint either.
    mkdirSync(join(dir, 'step-00000012'));
    expect(() => readCheckpoint(join(dir, 'step-00000012'))).toThrow(/manifest.json is missing/);
  });
});
