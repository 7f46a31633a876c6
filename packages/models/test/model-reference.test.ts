import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCheckpoint } from '../src/model/index.js';

const DIR = join(import.meta.dirname, 'fixtures', 'models');
const expected = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')) as Record<
  string,
  { ids: number[][]; logits: number[]; loss: number; grads: Record<string, number[]> }
>;

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`forward against the PyTorch reference (${backend})`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
    });

    for (const name of Object.keys(expected)) {
      it(`${name}: logits within 1e-4, loss and gradients match`, () => {
        const want = expected[name]!;
        const before = tf.memory().numTensors;
        const model = loadCheckpoint(join(DIR, name));
        const batch = want.ids.length;
        const seq = want.ids[0]!.length;
        const input = { ids: Int32Array.from(want.ids.flat()), batch, seq };
        const out = model.forward(input, { training: false });
        expect(out.logits.shape).toEqual([batch, seq, model.config.vocab_size]);
        expect(maxAbsDiff(out.logits.dataSync(), want.logits)).toBeLessThan(1e-4);
        tf.dispose([out.logits, out.auxLoss]);
        const g = model.valueAndGrads(input);
        expect(g.crossEntropy).toBeCloseTo(want.loss, 4);
        for (const [param, grad] of Object.entries(want.grads)) {
          const got = g.grads.get(param)!.dataSync();
          expect(maxAbsDiff(got, grad), param).toBeLessThan(1e-4);
        }
        if (model.config.num_local_experts > 0) {
          expect(g.expertLoad.length).toBe(model.config.num_hidden_layers);
          for (const l of g.expertLoad)
            expect(l.load.reduce((a, b) => a + b, 0)).toBe(
              batch * seq * model.config.num_experts_per_tok,
            );
        }
        tf.dispose([...g.grads.values()]);
        model.dispose();
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  });
}
