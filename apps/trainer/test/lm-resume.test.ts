import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runLm } from '../src/commands/lm.js';
import { listCheckpoints } from '../src/lm/checkpoint/load.js';
import { metricsOf, microArgs, tempRun } from './lm-helpers.js';

const quiet = { log: () => {}, showProgress: false };

describe('plexus-train lm: checkpoints and --resume', () => {
  it('stops at a checkpoint and resumes bit-identically; falls back past a corrupt checkpoint', async () => {
    const { dir, data } = tempRun();
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const args = (out: string, extra: string[] = []) =>
      microArgs(data, out, ['--steps', '6', '--checkpoint-every', '3', ...extra]);
    const full = await runLm(args(a), quiet);
    expect(full.finished).toBe(true);
    const tensorsBefore = tf.memory().numTensors;

    // Run B stops right after step 3 (its checkpoint is flushed), then resumes.
    const stopped = await runLm(args(b), { ...quiet, onStep: (s) => s === 3 });
    expect(stopped).toMatchObject({ finished: false, lastStep: 3, modelDir: null });
    expect(metricsOf(b)).toHaveLength(3);
    const lines: string[] = [];
    const resumed = await runLm(args(b, ['--resume']), { ...quiet, log: (l) => lines.push(l) });
    expect(resumed).toMatchObject({ finished: true, resumedFrom: 3, lastStep: 6 });
    expect(lines.some((l) => l.startsWith('resumed from') && l.includes('step-00000003'))).toBe(
      true,
    );

    // Bit-identical: every logged number and the final weights.
    const strip = (m: ReturnType<typeof metricsOf>) =>
      m.map(({ step, loss, cross_entropy, lr, grad_norm }) => ({
        step,
        loss,
        cross_entropy,
        lr,
        grad_norm,
      }));
    expect(strip(metricsOf(b))).toEqual(strip(metricsOf(a)));
    expect(metricsOf(b)).toHaveLength(6);
    const weights = (out: string) => readFileSync(join(out, 'model', 'model.safetensors'));
    expect(weights(b).equals(weights(a))).toBe(true);
    expect(tf.memory().numTensors).toBe(tensorsBefore);

    // Keep-2 retention, then corrupt one byte of the newest checkpoint.
    const ckpts = listCheckpoints(join(b, 'checkpoints'));
    expect(ckpts.map((p) => p.slice(-13))).toEqual(['step-00000006', 'step-00000003']);
    const state = join(ckpts[0]!, 'state.safetensors');
    const bytes = readFileSync(state);
    bytes[bytes.length - 7]! ^= 0x40;
    writeFileSync(state, bytes);
    const warned: string[] = [];
    const fallback = await runLm(
      microArgs(data, b, ['--steps', '6', '--checkpoint-every', '3', '--resume']),
      {
        ...quiet,
        log: (l) => warned.push(l),
      },
    );
    expect(
      warned.some((l) => /step-00000006 is not usable \(state\.safetensors has SHA-256/.test(l)),
    ).toBe(true);
    expect(fallback.resumedFrom).toBe(3);
    // Steps 4..6 redone from the step-3 checkpoint equal the uninterrupted run again.
    expect(strip(metricsOf(b))).toEqual(strip(metricsOf(a)));
    expect(weights(b).equals(weights(a))).toBe(true);
  }, 60_000);
});
