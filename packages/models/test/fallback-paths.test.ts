import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, expect, it } from 'vitest';
import { AdamW, CausalLM, parseModelConfig } from '../src/model/index.js';

// The model's host kernels run only on wasm and cpu; every other backend
// (webgpu, tfjs-node) takes the plain tfjs paths. A copy of the cpu backend
// under another name, with every cpu kernel registered for it, takes those
// paths, and must give the same losses, gradients and AdamW update.

const FALLBACK = 'plexus-fallback-cpu';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  if (tf.findBackendFactory(FALLBACK) === null) {
    tf.registerBackend(FALLBACK, tf.findBackendFactory('cpu')!);
    for (const k of tf.getKernelsForBackend('cpu'))
      if (!k.kernelName.startsWith('Plexus') || k.kernelName === 'PlexusSegmentSum')
        tf.registerKernel({ ...k, backendName: FALLBACK });
  }
});

const config = parseModelConfig({
  model_type: 'mixtral',
  vocab_size: 16,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 4,
  num_key_value_heads: 2,
  head_dim: 4,
  num_local_experts: 3,
  num_experts_per_tok: 2,
  router_aux_loss_coef: 0.05,
});

function run(): { loss: number; grads: Map<string, Float32Array>; after: Float32Array } {
  const model = CausalLM.init(config, { seed: 2 });
  const rng = new SeededRandom(4);
  const ids = Int32Array.from({ length: 2 * 5 }, () => rng.int(16));
  const g = model.valueAndGrads({ ids, batch: 2, seq: 5 });
  const grads = new Map([...g.grads].map(([k, t]) => [k, t.dataSync().slice() as Float32Array]));
  const opt = new AdamW(model.params, { lr: 0.01 });
  opt.step(g.grads);
  tf.dispose([...g.grads.values()]);
  const after = model
    .param('model.layers.0.self_attn.q_proj.weight')
    .dataSync()
    .slice() as Float32Array;
  opt.dispose();
  model.dispose();
  return { loss: g.loss, grads, after };
}

it('plain tfjs paths (non-host backends) equal the host-kernel paths', async () => {
  await tf.setBackend('cpu');
  const host = run();
  await tf.setBackend(FALLBACK);
  const before = tf.memory().numTensors;
  const plain = run();
  expect(tf.memory().numTensors).toBe(before);
  await tf.setBackend('cpu');
  expect(plain.loss).toBeCloseTo(host.loss, 5);
  for (const [name, g] of host.grads) {
    const p = plain.grads.get(name)!;
    for (let i = 0; i < g.length; i++)
      expect(Math.abs(p[i]! - g[i]!), `${name}[${i}]`).toBeLessThan(1e-5 * (1 + Math.abs(g[i]!)));
  }
  for (let i = 0; i < host.after.length; i++) expect(plain.after[i]).toBeCloseTo(host.after[i]!, 6);
});
