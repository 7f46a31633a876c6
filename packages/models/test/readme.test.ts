import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { expect, it } from 'vitest';
import {
  AdamW,
  CausalLM,
  loadCheckpoint,
  PagedDecoder,
  presetConfig,
  saveCheckpoint,
} from '../src/index.js';

it('the README example runs', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-readme-'));
  await initBackend({ backend: 'wasm' });
  const model = CausalLM.init(presetConfig('tiny-moe'), { seed: 1 });
  const opt = new AdamW(model.params, { lr: 3e-4 });
  const ids = Int32Array.from({ length: 2 * 16 }, (_, i) => (i * 7) % 512);
  const step = model.valueAndGrads({ ids, batch: 2, seq: 16 });
  opt.step(step.grads);
  tf.dispose([...step.grads.values()]);
  saveCheckpoint(model, join(dir, 'demo'));
  const decoder = new PagedDecoder(loadCheckpoint(join(dir, 'demo')), {
    numBlocks: 64,
    blockSize: 16,
  });
  const { logits } = decoder.prefill([{ id: 0, tokens: [1, 5, 9] }]);
  const next = decoder.decode([{ id: 0, token: 42 }]);
  expect(logits.shape).toEqual([1, 512]);
  expect(next.shape).toEqual([1, 512]);
  expect(step.expertLoad.length).toBe(4);
  expect(Number.isFinite(step.loss)).toBe(true);
  tf.dispose([logits, next]);
  opt.dispose();
  model.dispose();
  decoder.model.dispose();
  rmSync(dir, { recursive: true, force: true });
});
