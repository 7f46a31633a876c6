import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadCheckpoint, loadHfTokenizerFromDir } from '@plexus/models';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { runLm } from '../src/commands/lm.js';
import { readCheckpoint } from '../src/lm/checkpoint/load.js';
import { MICRO_MOE, metricsOf, microArgs, tempRun } from './lm-helpers.js';

describe('plexus-train lm', () => {
  it('trains the MoE model: metrics with expert load, loss curve, a Hugging Face model directory', async () => {
    const { dir, data } = tempRun();
    const out = join(dir, 'moe');
    const lines: string[] = [];
    const args = microArgs(data, out, ['--steps', '8', '--checkpoint-every', '4']);
    args[args.indexOf('--config') + 1] = MICRO_MOE;
    const summary = await runLm(args, { log: (l) => lines.push(l), showProgress: false });
    expect(summary).toMatchObject({
      finished: true,
      modelType: 'mixtral',
      mixedPrecision: false,
      lastStep: 8,
    });
    expect(lines[0]).toMatch(/float32 \(no mixed precision on this backend\)/);
    const m = metricsOf(out);
    expect(m.map((x) => x.step)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(m.at(-1)!.loss).toBeLessThan(m[0]!.loss);
    for (const x of m) {
      expect(x.loss).toBeCloseTo(x.cross_entropy + x.aux_loss, 5);
      expect(x.aux_loss).toBeGreaterThan(0);
      expect(x.expert_load).toHaveLength(2);
      // Top-2 routing: the loads of a layer sum to tokens × 2.
      for (const l of x.expert_load!) expect(l.load.reduce((a, b) => a + b, 0)).toBe(2 * 16 * 2);
    }
    expect(m[1]!.lr).toBe(1e-2);
    expect(readFileSync(join(out, 'loss.svg'), 'utf8')).toMatch(
      /^<svg[\s\S]*cross-entropy[\s\S]*<\/svg>$/,
    );

    // The exported directory loads with @plexus/models, equal to the last checkpoint's weights.
    const before = tf.memory().numTensors;
    const model = loadCheckpoint(summary.modelDir!);
    const last = readCheckpoint(join(out, 'checkpoints', 'step-00000008'));
    for (const [name, p] of model.params)
      expect(Array.from(p.dataSync())).toEqual(Array.from(last.tensors.get(`model/${name}`)!));
    const tok = loadHfTokenizerFromDir(summary.modelDir!);
    expect(tok.vocabSize).toBe(model.config.vocab_size);
    expect(tok.decode(tok.encode('It is a truth universally acknowledged'))).toBe(
      'It is a truth universally acknowledged',
    );
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  }, 60_000);

  it('takes a tokenizer from --tokenizer; refuses to resume a run made with other options', async () => {
    const { dir, data } = tempRun();
    const out = join(dir, 'r');
    const logA: string[] = [];
    await runLm(microArgs(data, out, ['--steps', '3', '--checkpoint-every', '3']), {
      log: (l) => logA.push(l),
      showProgress: false,
    });
    const logB: string[] = [];
    const other = join(dir, 'other');
    await runLm(microArgs(data, other, ['--steps', '3', '--tokenizer', join(out, 'model')]), {
      log: (l) => logB.push(l),
      showProgress: false,
    });
    expect(JSON.parse(readFileSync(join(other, 'tokenizer', 'source.json'), 'utf8'))).toEqual({
      kind: 'copied',
      from: join(out, 'model'),
    });
    // Loaded through @huggingface/tokenizers, the same tokenizer gives the same token stream.
    const tokens = (l: string[]) => /; (\d+) tokens, vocabulary (\d+)/.exec(l[0]!)?.slice(1);
    expect(tokens(logA)).toHaveLength(2);
    expect(tokens(logB)).toEqual(tokens(logA));
    await expect(
      runLm(microArgs(data, out, ['--steps', '4', '--seq', '8', '--resume']), {
        log: () => {},
        showProgress: false,
      }),
    ).rejects.toThrow(
      /cannot resume from .*step-00000003: it was made with seq = 16, this run has 8/,
    );
  }, 30_000);
});
