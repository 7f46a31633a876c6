import { SeededRandom } from '@plexus/tensor';
import type { ModelConfig } from './config.js';
import { isMoE } from './config.js';

/** Name and Hugging Face shape (`[out, in]` for projections) of one parameter. */
export interface ParamSpec {
  readonly name: string;
  readonly shape: readonly number[];
  /** `norm` parameters start at 1; `matrix` ones are random. */
  readonly kind: 'norm' | 'matrix';
}

/** HF tensor names of layer `i`'s parameters. */
export function layerNames(i: number) {
  const p = `model.layers.${i}`;
  return {
    inputNorm: `${p}.input_layernorm.weight`,
    q: `${p}.self_attn.q_proj.weight`,
    k: `${p}.self_attn.k_proj.weight`,
    v: `${p}.self_attn.v_proj.weight`,
    o: `${p}.self_attn.o_proj.weight`,
    postNorm: `${p}.post_attention_layernorm.weight`,
    gate: `${p}.mlp.gate_proj.weight`,
    up: `${p}.mlp.up_proj.weight`,
    down: `${p}.mlp.down_proj.weight`,
    router: `${p}.block_sparse_moe.gate.weight`,
    expert: (e: number, w: 'w1' | 'w2' | 'w3') => `${p}.block_sparse_moe.experts.${e}.${w}.weight`,
  };
}

/** The embedding, final norm and output head names. */
export const EMBED = 'model.embed_tokens.weight';
/** Final RMSNorm weight. */
export const FINAL_NORM = 'model.norm.weight';
/** Output projection (absent when `tie_word_embeddings`). */
export const LM_HEAD = 'lm_head.weight';

/**
 * Every parameter of a config, by its Hugging Face name and shape, in the
 * order HF checkpoints list them. Projections are `[out, in]` as in
 * `nn.Linear`; the Mixtral experts' `w1`/`w3` are `[intermediate, hidden]`
 * and `w2` is `[hidden, intermediate]`.
 */
export function paramSpecs(config: ModelConfig): ParamSpec[] {
  const D = config.hidden_size;
  const I = config.intermediate_size;
  const qDim = config.num_attention_heads * config.head_dim;
  const kvDim = config.num_key_value_heads * config.head_dim;
  const specs: ParamSpec[] = [{ name: EMBED, shape: [config.vocab_size, D], kind: 'matrix' }];
  for (let i = 0; i < config.num_hidden_layers; i++) {
    const n = layerNames(i);
    specs.push(
      { name: n.inputNorm, shape: [D], kind: 'norm' },
      { name: n.q, shape: [qDim, D], kind: 'matrix' },
      { name: n.k, shape: [kvDim, D], kind: 'matrix' },
      { name: n.v, shape: [kvDim, D], kind: 'matrix' },
      { name: n.o, shape: [D, qDim], kind: 'matrix' },
      { name: n.postNorm, shape: [D], kind: 'norm' },
    );
    if (isMoE(config)) {
      specs.push({ name: n.router, shape: [config.num_local_experts, D], kind: 'matrix' });
      for (let e = 0; e < config.num_local_experts; e++)
        specs.push(
          { name: n.expert(e, 'w1'), shape: [I, D], kind: 'matrix' },
          { name: n.expert(e, 'w2'), shape: [D, I], kind: 'matrix' },
          { name: n.expert(e, 'w3'), shape: [I, D], kind: 'matrix' },
        );
    } else {
      specs.push(
        { name: n.gate, shape: [I, D], kind: 'matrix' },
        { name: n.up, shape: [I, D], kind: 'matrix' },
        { name: n.down, shape: [D, I], kind: 'matrix' },
      );
    }
  }
  specs.push({ name: FINAL_NORM, shape: [D], kind: 'norm' });
  if (!config.tie_word_embeddings)
    specs.push({ name: LM_HEAD, shape: [config.vocab_size, D], kind: 'matrix' });
  return specs;
}

/** Total parameter count of a config. */
export function countParams(config: ModelConfig): number {
  return paramSpecs(config).reduce((a, s) => a + s.shape.reduce((x, d) => x * d, 1), 0);
}

/**
 * Seeded initial values, as Hugging Face's `_init_weights` does: matrices
 * `N(0, initializer_range²)`, norms 1. Host arrays, identical on every
 * platform for a given seed.
 */
export function initParamValues(config: ModelConfig, seed: number): Map<string, Float32Array> {
  const rng = new SeededRandom(seed);
  const out = new Map<string, Float32Array>();
  for (const s of paramSpecs(config)) {
    const size = s.shape.reduce((a, d) => a * d, 1);
    const v = new Float32Array(size);
    if (s.kind === 'norm') v.fill(1);
    else rng.fillNormal(v, 0, config.initializer_range);
    out.set(s.name, v);
  }
  return out;
}
