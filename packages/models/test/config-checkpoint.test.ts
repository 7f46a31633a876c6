import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CausalLM,
  configToJson,
  countParams,
  loadCheckpoint,
  MODEL_PRESETS,
  parseModelConfig,
  presetConfig,
  saveCheckpoint,
} from '../src/model/index.js';
import { SafetensorsReader, serializeSafetensors } from '../src/safetensors/index.js';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'models');
const tmp = mkdtempSync(join(tmpdir(), 'plexus-ckpt-'));
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const llama = {
  model_type: 'llama',
  vocab_size: 32,
  hidden_size: 16,
  intermediate_size: 24,
  num_hidden_layers: 1,
  num_attention_heads: 4,
};

describe('config', () => {
  it('fills Hugging Face defaults', () => {
    const c = parseModelConfig(llama);
    expect(c.num_key_value_heads).toBe(4);
    expect(c.head_dim).toBe(4);
    expect(c.rope_theta).toBe(10000);
    expect(c.rms_norm_eps).toBe(1e-6);
    expect(c.tie_word_embeddings).toBe(false);
    expect(c.num_local_experts).toBe(0);
    const m = parseModelConfig({ ...llama, model_type: 'mixtral', num_key_value_heads: 2 });
    expect([m.num_local_experts, m.num_experts_per_tok, m.rope_theta]).toEqual([8, 2, 1e6]);
    expect(parseModelConfig(configToJson(m))).toEqual(m);
  });

  it('reads the config.json of a real Mistral-7B / Mixtral-8x7B layout', () => {
    const mixtral = parseModelConfig({
      architectures: ['MixtralForCausalLM'],
      attention_dropout: 0.0,
      bos_token_id: 1,
      eos_token_id: 2,
      hidden_act: 'silu',
      hidden_size: 4096,
      initializer_range: 0.02,
      intermediate_size: 14336,
      max_position_embeddings: 32768,
      model_type: 'mixtral',
      num_attention_heads: 32,
      num_experts_per_tok: 2,
      num_hidden_layers: 32,
      num_key_value_heads: 8,
      num_local_experts: 8,
      output_router_logits: false,
      rms_norm_eps: 1e-5,
      rope_theta: 1e6,
      router_aux_loss_coef: 0.02,
      sliding_window: null,
      tie_word_embeddings: false,
      torch_dtype: 'bfloat16',
      transformers_version: '4.36.0.dev0',
      use_cache: true,
      vocab_size: 32000,
    });
    expect(mixtral.head_dim).toBe(128);
    expect(countParams(mixtral)).toBe(46_702_792_704);
  });

  it.each([
    [
      { ...llama, model_type: 'gpt2' },
      /model_type is "gpt2"; expected 'llama', 'mistral' or 'mixtral'/,
    ],
    [{ ...llama, hidden_size: 0 }, /hidden_size is 0; expected an integer >= 1/],
    [{ ...llama, vocab_size: undefined }, /vocab_size is missing/],
    [{ ...llama, num_key_value_heads: 3 }, /must be a multiple of num_key_value_heads \(3\)/],
    [{ ...llama, hidden_size: 18 }, /must be divisible by num_attention_heads/],
    [{ ...llama, head_dim: 5 }, /head_dim is 5; expected an even number/],
    [{ ...llama, rms_norm_eps: -1 }, /rms_norm_eps is -1; expected a positive number/],
    [{ ...llama, num_local_experts: 4 }, /use model_type 'mixtral'/],
    [
      { ...llama, model_type: 'mixtral', num_local_experts: 4, num_experts_per_tok: 5 },
      /num_experts_per_tok is 5/,
    ],
    [{ ...llama, rope_scaling: { type: 'linear', factor: 2 } }, /rope_scaling is not supported/],
    [{ ...llama, sliding_window: 16 }, /only full causal attention/],
    [{ ...llama, hidden_act: 'gelu' }, /hidden_act is "gelu"/],
    [
      { ...llama, eos_token_id: 99 },
      /eos_token_id is 99; expected null or a token id in \[0, 32\)/,
    ],
    [{ ...llama, attention_bias: true }, /attention_bias: true is not supported/],
  ])('rejects %j', (input, pattern) => {
    expect(() => parseModelConfig(input as Record<string, unknown>)).toThrow(
      /^@plexus\/models\/config: /,
    );
    expect(() => parseModelConfig(input as Record<string, unknown>)).toThrow(pattern);
  });

  it('presets are small and validated', () => {
    expect(countParams(MODEL_PRESETS.tiny)).toBeLessThan(1_000_000);
    expect(MODEL_PRESETS['tiny-moe'].num_local_experts).toBe(4);
    expect(presetConfig('tiny', { vocab_size: 300 }).vocab_size).toBe(300);
    expect(() => presetConfig('huge')).toThrow(
      /unknown preset "huge"; expected 'tiny' or 'tiny-moe'/,
    );
  });
});

describe('checkpoints', () => {
  function logitsOf(model: CausalLM): Float32Array {
    const ids = Int32Array.from({ length: 10 }, (_, i) => (i * 7) % model.config.vocab_size);
    const r = model.forward({ ids, batch: 2, seq: 5 }, { training: false });
    const out = r.logits.dataSync() as Float32Array;
    tf.dispose([r.logits, r.auxLoss]);
    return out;
  }

  it.each(['tiny', 'tiny-moe'] as const)(
    '%s: save then load gives identical parameters and logits',
    (name) => {
      const before = tf.memory().numTensors;
      const config = presetConfig(name, { num_hidden_layers: 1, vocab_size: 64 });
      const model = CausalLM.init(config, { seed: 3 });
      const dir = join(tmp, name);
      saveCheckpoint(model, dir);
      const back = loadCheckpoint(dir);
      expect(back.config).toEqual(model.config);
      for (const [n, p] of model.params) expect(back.param(n).dataSync()).toEqual(p.dataSync());
      expect(logitsOf(back)).toEqual(logitsOf(model));
      // Sharded, then single-file again into the same directory: the stale index must not win.
      saveCheckpoint(model, dir, { maxShardBytes: 20_000 });
      expect(
        JSON.parse(readFileSync(join(dir, 'model.safetensors.index.json'), 'utf8')).weight_map,
      ).toBeDefined();
      const sharded = loadCheckpoint(dir);
      expect(logitsOf(sharded)).toEqual(logitsOf(model));
      model.dispose();
      back.dispose();
      sharded.dispose();
      expect(tf.memory().numTensors).toBe(before);
    },
  );

  it('BF16 checkpoints load as float32 within bfloat16 rounding', () => {
    const model = loadCheckpoint(join(FIXTURES, 'llama-gqa'));
    const dir = join(tmp, 'bf16');
    saveCheckpoint(model, dir, { dtype: 'BF16' });
    const r = SafetensorsReader.open(join(dir, 'model.safetensors'));
    expect(r.info('model.norm.weight').dtype).toBe('BF16');
    r.close();
    const back = loadCheckpoint(dir);
    for (const [n, p] of model.params) {
      const a = p.dataSync();
      const b = back.param(n).dataSync();
      for (let i = 0; i < a.length; i++)
        expect(Math.abs(a[i]! - b[i]!)).toBeLessThanOrEqual(Math.abs(a[i]!) * 2 ** -8);
    }
    model.dispose();
    back.dispose();
  });

  it('rejects missing, misshapen and foreign tensors', () => {
    const dir = join(tmp, 'bad');
    cpSync(join(FIXTURES, 'llama-gqa'), dir, { recursive: true });
    const src = SafetensorsReader.open(join(dir, 'model.safetensors'));
    const all = new Map(src.names.map((n) => [n, src.read(n)]));
    src.close();
    const write = (m: Map<string, { shape: readonly number[]; data: Float32Array }>) =>
      writeFileSync(join(dir, 'model.safetensors'), serializeSafetensors(m));
    const missing = new Map(all as Map<string, { shape: readonly number[]; data: Float32Array }>);
    missing.delete('model.norm.weight');
    write(missing);
    expect(() => loadCheckpoint(dir)).toThrow(/is missing tensor 'model.norm.weight' \[32\]/);
    const foreign = new Map(all as Map<string, { shape: readonly number[]; data: Float32Array }>);
    foreign.set('model.layers.0.mlp.experts.0.weight', { shape: [1], data: new Float32Array(1) });
    write(foreign);
    expect(() => loadCheckpoint(dir)).toThrow(
      /has tensor 'model.layers.0.mlp.experts.0.weight', which a llama model/,
    );
    const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8'));
    write(all as Map<string, { shape: readonly number[]; data: Float32Array }>);
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ ...config, intermediate_size: 40 }));
    expect(() => loadCheckpoint(dir)).toThrow(/has shape \[48, 32\]; the config needs \[40, 32\]/);
  });
});
