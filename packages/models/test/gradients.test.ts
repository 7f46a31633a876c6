import { initBackend, SeededRandom } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { CausalLM, parseModelConfig } from '../src/model/index.js';

const base = {
  vocab_size: 16,
  hidden_size: 8,
  intermediate_size: 12,
  num_hidden_layers: 2,
  num_attention_heads: 2,
  num_key_value_heads: 1,
  head_dim: 4,
  initializer_range: 0.5,
  rms_norm_eps: 1e-5,
};
const configs = {
  'dense, tied embeddings': parseModelConfig({
    ...base,
    model_type: 'llama',
    tie_word_embeddings: true,
  }),
  'mixtral top-2 with load-balancing loss': parseModelConfig({
    ...base,
    model_type: 'mixtral',
    num_local_experts: 3,
    num_experts_per_tok: 2,
    router_aux_loss_coef: 0.05,
  }),
};

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe.each(Object.entries(configs))(
  'gradients by central finite differences (%s)',
  (_, config) => {
    it('every parameter kind, two coordinates each', () => {
      const before = tf.memory().numTensors;
      const model = CausalLM.init(config, { seed: 5 });
      const rng = new SeededRandom(11);
      const input = {
        ids: Int32Array.from({ length: 2 * 6 }, () => rng.int(16)),
        batch: 2,
        seq: 6,
      };
      const g = model.valueAndGrads(input);
      if (config.num_local_experts > 0) expect(g.auxLoss).toBeGreaterThan(0);
      const lossAt = (): number => {
        const r = model.computeLoss(input);
        const v = r.loss.dataSync()[0]!;
        tf.dispose([r.loss, r.crossEntropy, r.auxLoss]);
        return v;
      };
      const eps = 1e-2;
      let checked = 0;
      for (const [name, variable] of model.params) {
        const values = variable.dataSync().slice() as Float32Array;
        const analytic = g.grads.get(name)!.dataSync();
        const set = (v: Float32Array) => {
          const t = tf.tensor(v, variable.shape);
          variable.assign(t);
          t.dispose();
        };
        for (let j = 0; j < 2; j++) {
          const i = rng.int(values.length);
          const probe = values.slice();
          probe[i] = values[i]! + eps;
          set(probe);
          const up = lossAt();
          probe[i] = values[i]! - eps;
          set(probe);
          const down = lossAt();
          set(values);
          const numeric = (up - down) / (2 * eps);
          expect(
            Math.abs(numeric - analytic[i]!),
            `${name}[${i}]: ${numeric} vs ${analytic[i]}`,
          ).toBeLessThan(2e-3 + 0.03 * Math.abs(numeric));
          checked++;
        }
      }
      expect(checked).toBe(2 * model.params.size);
      tf.dispose([...g.grads.values()]);
      model.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });
  },
);
