// The benchmark's tiny transformer honours the K/V-hook contract: a partial
// pass attending to K/V taken from a full pass reproduces the full pass.
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { asAutoregressive, asMaskedLm, TinyTransformer } from '../bench/dlm/tiny-transformer.js';
import { createThresholdDecoder } from '../src/index.js';
import { cpuBackend } from './setup.js';

const cfg = { vocab: 9, maxLen: 12, dModel: 16, heads: 2, layers: 2, ffn: 24, causal: false };
const MASK = 8;
let net: TinyTransformer;
let causal: TinyTransformer;

beforeAll(async () => {
  await cpuBackend();
  net = new TinyTransformer(cfg, 3);
  causal = new TinyTransformer({ ...cfg, causal: true }, 4);
});
afterAll(() => {
  net.dispose();
  causal.dispose();
});

const ids = [
  [1, 2, 3, MASK, 5, MASK, MASK, 0, 7, MASK, MASK, 4],
  [4, 4, MASK, MASK, 1, 2, 3, MASK, 6, 0, MASK, MASK],
];

describe('tiny transformer K/V hooks', () => {
  it('forwardWithKv over every position equals forward', () => {
    const model = asMaskedLm(net, MASK);
    const x = tf.tensor2d(ids, [2, 12], 'int32');
    const full = model.forward(x) as tf.Tensor;
    const out = model.kv!.forwardWithKv({ ids: x, positions: [...Array(12).keys()] }) as never as {
      logits: tf.Tensor;
      keys: tf.Tensor[];
      values: tf.Tensor[];
    };
    expect(out.keys[0]!.shape).toEqual([2, 12, 2, 8]);
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(full, out.logits))).dataSync()[0]!);
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, full, out.logits, ...out.keys, ...out.values]);
  });

  it('queries attending to the full pass K/V of the other positions reproduce the full pass', () => {
    const model = asMaskedLm(net, MASK);
    const before = tf.memory().numTensors;
    const all = [...Array(12).keys()];
    const queries = [3, 5, 6, 9, 10];
    const context = all.filter((p) => !queries.includes(p));
    const x = tf.tensor2d(ids, [2, 12], 'int32');
    const full = model.kv!.forwardWithKv({ ids: x, positions: all }) as never as {
      logits: tf.Tensor;
      keys: tf.Tensor[];
      values: tf.Tensor[];
    };
    const take = (t: tf.Tensor, ps: number[]) =>
      tf.tidy(() => tf.gather(t, tf.tensor1d(ps, 'int32'), 1));
    const qIds = tf.tensor2d(
      ids.map((r) => queries.map((p) => r[p]!)),
      [2, queries.length],
      'int32',
    );
    const ctx = {
      positions: context,
      keys: full.keys.map((k) => take(k, context) as tf.Tensor4D),
      values: full.values.map((v) => take(v, context) as tf.Tensor4D),
    };
    const part = model.kv!.forwardWithKv({
      ids: qIds,
      positions: queries,
      context: ctx,
    }) as never as {
      logits: tf.Tensor;
      keys: tf.Tensor[];
      values: tf.Tensor[];
    };
    const diff = tf.tidy(
      () => tf.max(tf.abs(tf.sub(take(full.logits, queries), part.logits))).dataSync()[0]!,
    );
    expect(diff).toBeLessThan(1e-5);
    tf.dispose([x, qIds, full.logits, ...full.keys, ...full.values, ...ctx.keys, ...ctx.values]);
    tf.dispose([part.logits, ...part.keys, ...part.values]);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('the causal verifier ignores later tokens', () => {
    const ar = asAutoregressive(causal);
    const a = tf.tensor2d([[1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4]], [1, 12], 'int32');
    const b = tf.tensor2d([[1, 2, 3, 4, 5, 0, 0, 0, 0, 0, 0, 0]], [1, 12], 'int32');
    const la = ar.forward(a) as tf.Tensor;
    const lb = ar.forward(b) as tf.Tensor;
    const [same, other] = tf.tidy(() => {
      const d = tf.max(tf.abs(tf.sub(la, lb)), [0, 2]).arraySync() as number[];
      return [Math.max(...d.slice(0, 5)), Math.max(...d.slice(5))];
    });
    expect(same).toBeLessThan(1e-5);
    expect(other).toBeGreaterThan(1e-3);
    tf.dispose([a, b, la, lb]);
  });

  it('decodes with every cache mode without leaking tensors', async () => {
    const model = asMaskedLm(net, MASK);
    const prompt = [
      [1, 2],
      [3, 4],
    ];
    await createThresholdDecoder({ threshold: 0.5 }).decode({ model, prompt, genLength: 8 });
    const before = tf.memory().numTensors;
    for (const cache of ['none', 'prefix', 'dual', 'delayed'] as const) {
      const res = await createThresholdDecoder({ threshold: 0.5, blockLength: 4, cache }).decode({
        model,
        prompt,
        genLength: 8,
      });
      expect(res.tokens[0]!.length).toBe(10);
      expect(Array.from(res.tokens[0]!).includes(MASK)).toBe(false);
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
