import { join } from 'node:path';
import { PagedKvStorage, QuantizedKvStorage } from '@plexus/kv-cache';
import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type CausalLM,
  type ExpertLoad,
  forwardPaged,
  loadCheckpoint,
  PagedDecoder,
} from '../src/model/index.js';

const DIR = join(import.meta.dirname, 'fixtures', 'models');

/** Full-forward logits of one sequence, `[len][vocab]`. */
function reference(model: CausalLM, tokens: number[]): Float32Array[] {
  const out = model.forward(
    { ids: Int32Array.from(tokens), batch: 1, seq: tokens.length },
    { training: false },
  );
  const data = out.logits.dataSync() as Float32Array;
  tf.dispose([out.logits, out.auxLoss]);
  const V = model.config.vocab_size;
  return Array.from({ length: tokens.length }, (_, t) => data.slice(t * V, (t + 1) * V));
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

function rows(t: tf.Tensor2D): Float32Array[] {
  const data = t.dataSync() as Float32Array;
  const [n, V] = t.shape;
  t.dispose();
  return Array.from({ length: n }, (_, i) => data.slice(i * V, (i + 1) * V));
}

describe.each(['llama-gqa', 'mixtral'])('paged decoding equals the full forward (%s)', (name) => {
  let model: CausalLM;
  beforeAll(async () => {
    await initBackend({ backend: 'wasm' });
    model = loadCheckpoint(join(DIR, name));
  });

  it('ragged batch: prefill at every position, then one-token steps', () => {
    const before = tf.memory().numTensors;
    const rng = new SeededRandom(3);
    const V = model.config.vocab_size;
    const prompts = [5, 11, 3].map((n) => Array.from({ length: n }, () => rng.int(V)));
    const extra = prompts.map(() => Array.from({ length: 7 }, () => rng.int(V)));
    const decoder = new PagedDecoder(model, {
      numBlocks: 32,
      blockSize: 8,
      enablePrefixCaching: false,
    });
    const pre = decoder.prefill(
      prompts.map((tokens, id) => ({ id, tokens })),
      { allPositions: true },
    );
    const prefillRows = rows(pre.logits);
    const refs = prompts.map((p, i) => reference(model, [...p, ...extra[i]!]));
    let r = 0;
    for (const [i, p] of prompts.entries())
      for (let t = 0; t < p.length; t++)
        expect(maxDiff(prefillRows[r++]!, refs[i]![t]!)).toBeLessThan(1e-4);
    for (let step = 0; step < 7; step++) {
      const out = rows(decoder.decode(prompts.map((_, id) => ({ id, token: extra[id]![step]! }))));
      for (const [i, p] of prompts.entries())
        expect(maxDiff(out[i]!, refs[i]![p.length + step]!), `seq ${i} step ${step}`).toBeLessThan(
          1e-4,
        );
    }
    for (let id = 0; id < prompts.length; id++) decoder.free(id);
    decoder.cache.checkInvariants();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('prefix-cache hits and forks with copy-on-write give the same logits', () => {
    const before = tf.memory().numTensors;
    const rng = new SeededRandom(9);
    const V = model.config.vocab_size;
    const shared = Array.from({ length: 17 }, () => rng.int(V));
    const a = [...shared, rng.int(V), rng.int(V)];
    const b = [...shared, rng.int(V)];
    const decoder = new PagedDecoder(model, { numBlocks: 32, blockSize: 8 });
    const first = decoder.prefill([{ id: 1, tokens: a }]);
    const second = decoder.prefill([{ id: 2, tokens: b }]);
    expect(second.numCachedTokens).toEqual([16]);
    expect(maxDiff(rows(first.logits)[0]!, reference(model, a).at(-1)!)).toBeLessThan(1e-4);
    expect(maxDiff(rows(second.logits)[0]!, reference(model, b).at(-1)!)).toBeLessThan(1e-4);
    // Fork b mid-block: the next append of either copies the shared last block.
    decoder.fork(2, 3);
    const [x, y] = [rng.int(V), rng.int(V)];
    const out = rows(
      decoder.decode([
        { id: 2, token: x },
        { id: 3, token: y },
      ]),
    );
    expect(decoder.cache.stats().cowCopies).toBeGreaterThan(0);
    expect(maxDiff(out[0]!, reference(model, [...b, x]).at(-1)!)).toBeLessThan(1e-4);
    expect(maxDiff(out[1]!, reference(model, [...b, y]).at(-1)!)).toBeLessThan(1e-4);
    for (const id of [1, 2, 3]) decoder.free(id);
    decoder.cache.checkInvariants();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('an int8 store decodes close to the float cache', () => {
    const c = model.config;
    const store = new QuantizedKvStorage(
      {
        numLayers: c.num_hidden_layers,
        numBlocks: 16,
        blockSize: 8,
        numKvHeads: c.num_key_value_heads,
        headDim: c.head_dim,
      },
      { bits: 8 },
    );
    const decoder = new PagedDecoder(model, { numBlocks: 16, blockSize: 8, store });
    const tokens = [3, 9, 27, 17, 51, 7, 1, 2, 40, 33];
    const got = rows(decoder.prefill([{ id: 0, tokens }]).logits)[0]!;
    const want = reference(model, tokens).at(-1)!;
    const scale = Math.max(...want.map(Math.abs));
    expect(maxDiff(got, want) / scale).toBeLessThan(0.05);
    decoder.free(0);
  });

  it('rejects ids outside the vocabulary and layouts that do not match', () => {
    const decoder = new PagedDecoder(model, { numBlocks: 8, blockSize: 8 });
    expect(() => decoder.prefill([{ id: 0, tokens: [1, model.config.vocab_size] }])).toThrow(
      /^@plexus\/models\/model: token id 64 at 1 is outside the vocabulary \[0, 64\)/,
    );
    expect(decoder.cache.sequenceIds()).toEqual([]);
    expect(() =>
      new PagedDecoder(model, {
        store: new QuantizedKvStorage(
          { numLayers: 2, numBlocks: 4, blockSize: 8, numKvHeads: 3, headDim: 8 },
          { bits: 8 },
        ),
      }).prefill([{ id: 0, tokens: [1] }]),
    ).toThrow(/store layout has 2 layers × 3 KV heads/);
  });
});

describe('forwardPaged reports the expert load of a Mixtral pass', () => {
  it('per layer, top-k choices summing to tokens × k, equal to the full forward’s', async () => {
    await initBackend({ backend: 'wasm' });
    const model = loadCheckpoint(join(DIR, 'mixtral'));
    const c = model.config;
    const tokens = [3, 9, 1, 4, 7];
    const store = new PagedKvStorage({
      numLayers: c.num_hidden_layers,
      numBlocks: 4,
      blockSize: 8,
      numKvHeads: c.num_key_value_heads,
      headDim: c.head_dim,
    });
    let load: readonly ExpertLoad[] = [];
    const logits = forwardPaged(model, store, [{ blockTable: [0], start: 0, tokens }], {
      onExpertLoad: (l) => {
        load = l;
      },
    });
    logits.dispose();
    const full = model.forward(
      { ids: Int32Array.from(tokens), batch: 1, seq: tokens.length },
      { training: false },
    );
    tf.dispose([full.logits, full.auxLoss]);
    expect(load).toHaveLength(c.num_hidden_layers);
    load.forEach((l, i) => {
      expect(l.load.reduce((a, b) => a + b, 0)).toBe(tokens.length * c.num_experts_per_tok);
      expect(Array.from(l.load)).toEqual(Array.from(full.expertLoad[i]!.load));
    });
    model.dispose();
  });
});

describe('forwardPaged with allRowsOf', () => {
  it('returns every row of the marked chunks and the last row of the others, equal to the full output', async () => {
    await initBackend({ backend: 'wasm' });
    const model = loadCheckpoint(join(DIR, 'llama-gqa'));
    const c = model.config;
    const layout = {
      numLayers: c.num_hidden_layers,
      numBlocks: 8,
      blockSize: 8,
      numKvHeads: c.num_key_value_heads,
      headDim: c.head_dim,
    };
    const chunks = [
      { blockTable: [0, 1], start: 0, tokens: [1, 4, 2, 8, 5, 7] },
      { blockTable: [2], start: 0, tokens: [3, 6, 9] },
    ];
    const full = rows(forwardPaged(model, new PagedKvStorage(layout), chunks));
    const some = rows(
      forwardPaged(model, new PagedKvStorage(layout), chunks, { allRowsOf: [false, true] }),
    );
    expect(some).toHaveLength(1 + 3);
    for (const [i, r] of [5, 6, 7, 8].entries())
      expect(maxDiff(some[i]!, full[r]!)).toBeLessThan(1e-5);
    expect(() =>
      forwardPaged(model, new PagedKvStorage(layout), chunks, { allRowsOf: [true] }),
    ).toThrow(/allRowsOf has 1 entries for 2 chunks/);
    model.dispose();
  });
});
