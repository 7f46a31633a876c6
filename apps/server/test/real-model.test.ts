import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CausalLM,
  loadBundledCorpus,
  presetConfig,
  saveByteLevelBpe,
  saveCheckpoint,
  trainByteLevelBpe,
} from '@plexus/models';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningServer, startServer } from '../src/start-server.js';

/**
 * The whole path with a real `@plexus/models` checkpoint (a seeded, untrained
 * tiny Mixtral): directory loading, the paged forward through the engine,
 * HTTP. The reference is the model's own dense forward (no cache).
 */
let dir = '';
let server: RunningServer;
let reference: CausalLM;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  dir = mkdtempSync(join(tmpdir(), 'plexus-serve-'));
  const tok = trainByteLevelBpe(loadBundledCorpus().slice(0, 200_000), { vocabSize: 400 });
  saveByteLevelBpe(tok, dir);
  const config = presetConfig('tiny-moe', {
    vocab_size: tok.vocabSize,
    num_hidden_layers: 2,
    max_position_embeddings: 128,
  });
  reference = CausalLM.init(config, { seed: 3 });
  saveCheckpoint(reference, dir);
  server = await startServer({
    model: dir,
    host: '127.0.0.1',
    port: 0,
    apiKeys: [],
    scheduler: 'fcfs',
    numBlocks: 64,
    blockSize: 8,
    maxBatchTokens: 32,
    maxRunning: 8,
    maxWaiting: 16,
    maxTokens: 64,
    prefixCaching: true,
    backend: 'cpu',
    speculativeTokens: 4,
  });
}, 120_000);

afterAll(async () => {
  await server?.close();
  reference?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

function denseGreedy(prompt: number[], maxTokens: number, eos: Set<number>): number[] {
  const ids = [...prompt];
  const out: number[] = [];
  while (out.length < maxTokens) {
    const next = tf.tidy(() => {
      const { logits } = reference.forward(
        { ids: Int32Array.from(ids), batch: 1, seq: ids.length },
        { training: false },
      );
      return tf
        .argMax(tf.squeeze(tf.slice(logits, [0, ids.length - 1, 0], [1, 1, -1])))
        .dataSync()[0]!;
    });
    if (eos.has(next)) break;
    out.push(next);
    ids.push(next);
  }
  return out;
}

describe('plexus-serve with a @plexus/models checkpoint', () => {
  it('temperature-0 completions equal the model’s dense greedy decode, for concurrent requests', async () => {
    const prompts = [
      'It is a truth universally',
      'Emma Woodhouse, handsome, clever',
      'It is a truth universally acknowledged',
    ];
    const bodies = await Promise.all(
      prompts.map(async (prompt) => {
        const res = await fetch(`${server.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ prompt, max_tokens: 10, temperature: 0, logprobs: 0 }),
        });
        expect(res.status).toBe(200);
        return (await res.json()) as {
          choices: { text: string; logprobs: { tokens: string[] } }[];
          usage: { prompt_tokens: number };
        };
      }),
    );
    const { loadModelDir } = await import('../src/model/load-model-dir.js');
    const { tokenizer, eosTokenIds, model } = loadModelDir(dir);
    model.model.dispose();
    bodies.forEach((body, i) => {
      const promptIds = tokenizer.encode(prompts[i]!);
      expect(body.usage.prompt_tokens).toBe(promptIds.length);
      const expected = tokenizer.decode(denseGreedy(promptIds, 10, new Set(eosTokenIds)));
      expect(body.choices[0]!.text).toBe(expected);
    });
    expect(server.engine.manager.numFreeBlocks()).toBe(64);
    // The Mixtral's router load of the last step reaches the dashboard.
    const state = (await (await fetch(`${server.url}/dashboard/state`)).json()) as {
      expertLoad: number[][];
    };
    expect(state.expertLoad).toHaveLength(2);
    for (const layer of state.expertLoad) expect(layer).toHaveLength(4);
  }, 120_000);
});
