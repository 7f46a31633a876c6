import { PlexusModelsError } from '../errors.js';

/** Model families whose `config.json` this package reads. */
export type ModelType = 'llama' | 'mistral' | 'mixtral';

/**
 * A decoder configuration in the Hugging Face `config.json` vocabulary
 * (`LlamaConfig`, `MistralConfig`, `MixtralConfig`), with every default
 * filled in. `num_local_experts` > 0 makes the MLP a Mixtral top-k MoE.
 */
export interface ModelConfig {
  readonly model_type: ModelType;
  readonly vocab_size: number;
  readonly hidden_size: number;
  readonly intermediate_size: number;
  readonly num_hidden_layers: number;
  readonly num_attention_heads: number;
  /** KV heads for grouped-query attention; divides `num_attention_heads`. */
  readonly num_key_value_heads: number;
  /** Per-head width; `hidden_size / num_attention_heads` unless set. Even (rotary pairs). */
  readonly head_dim: number;
  readonly rms_norm_eps: number;
  readonly rope_theta: number;
  readonly max_position_embeddings: number;
  readonly tie_word_embeddings: boolean;
  /** Experts per MoE layer; 0 for a dense model. */
  readonly num_local_experts: number;
  /** Experts each token is routed to (Mixtral: 2). */
  readonly num_experts_per_tok: number;
  /** Weight of the load-balancing loss added in training (Mixtral's `router_aux_loss_coef`). */
  readonly router_aux_loss_coef: number;
  readonly bos_token_id: number | null;
  readonly eos_token_id: number | number[] | null;
  readonly initializer_range: number;
}

/** What {@link parseModelConfig} accepts: a `config.json` object; missing fields take HF defaults. */
export type ModelConfigInput = Partial<Record<keyof ModelConfig, unknown>> &
  Record<string, unknown>;

const MODULE = 'config';

function fail(message: string): never {
  throw new PlexusModelsError(MODULE, message);
}

function int(
  raw: Record<string, unknown>,
  key: string,
  fallback: number | undefined,
  min: number,
): number {
  const v = raw[key] ?? fallback;
  if (v === undefined) fail(`${key} is missing; expected an integer >= ${min}`);
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min)
    fail(`${key} is ${JSON.stringify(v)}; expected an integer >= ${min}`);
  return v;
}

function positive(raw: Record<string, unknown>, key: string, fallback: number): number {
  const v = raw[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
    fail(`${key} is ${JSON.stringify(v)}; expected a positive number`);
  return v;
}

function tokenId(
  raw: Record<string, unknown>,
  key: string,
  vocab: number,
): number | number[] | null {
  const v = raw[key] ?? null;
  const ok = (x: unknown) => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x < vocab;
  if (v === null) return null;
  if (ok(v)) return v as number;
  if (key === 'eos_token_id' && Array.isArray(v) && v.length > 0 && v.every(ok))
    return v as number[];
  return fail(
    `${key} is ${JSON.stringify(v)}; expected null or a token id in [0, ${vocab})${key === 'eos_token_id' ? ' (or a list of them)' : ''}`,
  );
}

/**
 * Validate a `config.json` object and fill in Hugging Face's defaults.
 * Errors name the field, its value and what is accepted. Fields this package
 * does not implement (`rope_scaling`, `sliding_window` shorter than the
 * context, attention or MLP biases) are refused rather than silently ignored.
 */
export function parseModelConfig(input: ModelConfigInput): ModelConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input))
    fail('config must be a JSON object (the contents of config.json)');
  const raw = input as Record<string, unknown>;
  const modelType = raw.model_type ?? 'llama';
  if (modelType !== 'llama' && modelType !== 'mistral' && modelType !== 'mixtral')
    fail(`model_type is ${JSON.stringify(modelType)}; expected 'llama', 'mistral' or 'mixtral'`);
  const vocab = int(raw, 'vocab_size', undefined, 1);
  const hidden = int(raw, 'hidden_size', undefined, 1);
  const heads = int(raw, 'num_attention_heads', undefined, 1);
  const kvHeads = int(raw, 'num_key_value_heads', heads, 1);
  if (heads % kvHeads !== 0)
    fail(`num_attention_heads (${heads}) must be a multiple of num_key_value_heads (${kvHeads})`);
  let headDim: number;
  if (raw.head_dim === undefined || raw.head_dim === null) {
    if (hidden % heads !== 0)
      fail(
        `hidden_size (${hidden}) must be divisible by num_attention_heads (${heads}) unless head_dim is given`,
      );
    headDim = hidden / heads;
  } else headDim = int(raw, 'head_dim', undefined, 2);
  if (headDim % 2 !== 0)
    fail(`head_dim is ${headDim}; expected an even number (rotary embeddings rotate pairs)`);
  const experts = int(raw, 'num_local_experts', modelType === 'mixtral' ? 8 : 0, 0);
  if (modelType === 'mixtral' && experts < 1) fail('num_local_experts must be >= 1 for mixtral');
  if (modelType !== 'mixtral' && experts > 0)
    fail(
      `num_local_experts is ${experts} but model_type is '${modelType}'; use model_type 'mixtral' for MoE models`,
    );
  const perTok = int(raw, 'num_experts_per_tok', experts > 0 ? 2 : 0, 0);
  if (experts > 0 && (perTok < 1 || perTok > experts))
    fail(`num_experts_per_tok is ${perTok}; expected 1..num_local_experts (${experts})`);
  const maxPos = int(raw, 'max_position_embeddings', 2048, 1);
  if (raw.rope_scaling !== undefined && raw.rope_scaling !== null)
    fail('rope_scaling is not supported; expected null or absent');
  for (const key of ['attention_bias', 'mlp_bias'])
    if (raw[key] === true)
      fail(`${key}: true is not supported; expected false (no biases, as Llama and Mixtral)`);
  const act = raw.hidden_act ?? 'silu';
  if (act !== 'silu') fail(`hidden_act is ${JSON.stringify(act)}; expected 'silu' (SwiGLU)`);
  const sw = raw.sliding_window;
  if (sw !== undefined && sw !== null && (typeof sw !== 'number' || sw < maxPos))
    fail(
      `sliding_window is ${JSON.stringify(sw)}; only full causal attention is implemented (null, or >= max_position_embeddings ${maxPos})`,
    );
  const tie = raw.tie_word_embeddings ?? false;
  if (typeof tie !== 'boolean')
    fail(`tie_word_embeddings is ${JSON.stringify(tie)}; expected true or false`);
  return {
    model_type: modelType,
    vocab_size: vocab,
    hidden_size: hidden,
    intermediate_size: int(raw, 'intermediate_size', undefined, 1),
    num_hidden_layers: int(raw, 'num_hidden_layers', undefined, 1),
    num_attention_heads: heads,
    num_key_value_heads: kvHeads,
    head_dim: headDim,
    rms_norm_eps: positive(raw, 'rms_norm_eps', modelType === 'llama' ? 1e-6 : 1e-5),
    rope_theta: positive(raw, 'rope_theta', modelType === 'mixtral' ? 1e6 : 10000),
    max_position_embeddings: maxPos,
    tie_word_embeddings: tie,
    num_local_experts: experts,
    num_experts_per_tok: perTok,
    router_aux_loss_coef: (() => {
      const v = raw.router_aux_loss_coef ?? 0.001;
      if (typeof v !== 'number' || !(v >= 0))
        fail(`router_aux_loss_coef is ${JSON.stringify(v)}; expected a number >= 0`);
      return v;
    })(),
    bos_token_id: tokenId(raw, 'bos_token_id', vocab) as number | null,
    eos_token_id: tokenId(raw, 'eos_token_id', vocab),
    initializer_range: positive(raw, 'initializer_range', 0.02),
  };
}

/** The `config.json` object for a config (what {@link parseModelConfig} reads back). */
export function configToJson(config: ModelConfig): Record<string, unknown> {
  const archs = {
    llama: 'LlamaForCausalLM',
    mistral: 'MistralForCausalLM',
    mixtral: 'MixtralForCausalLM',
  };
  const out: Record<string, unknown> = {
    architectures: [archs[config.model_type]],
    ...config,
    hidden_act: 'silu',
  };
  if (config.model_type !== 'mixtral') {
    delete out.num_local_experts;
    delete out.num_experts_per_tok;
    delete out.router_aux_loss_coef;
  }
  return out;
}

/** Whether the config's MLPs are mixtures of experts. */
export function isMoE(config: ModelConfig): boolean {
  return config.num_local_experts > 0;
}

/**
 * Named small configurations for training on a laptop CPU: `tiny` (dense,
 * about 0.9M parameters with a 512-token vocabulary) and `tiny-moe` (the
 * same attention with 4 experts of top-2 SwiGLU). Vocabulary 512 matches a
 * small byte-level BPE; override `vocab_size` for another tokenizer.
 */
export const MODEL_PRESETS: Readonly<Record<'tiny' | 'tiny-moe', ModelConfig>> = {
  tiny: parseModelConfig({
    model_type: 'llama',
    vocab_size: 512,
    hidden_size: 128,
    intermediate_size: 344,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    bos_token_id: 1,
    eos_token_id: 2,
  }),
  'tiny-moe': parseModelConfig({
    model_type: 'mixtral',
    vocab_size: 512,
    hidden_size: 128,
    intermediate_size: 172,
    num_hidden_layers: 4,
    num_attention_heads: 4,
    num_key_value_heads: 2,
    max_position_embeddings: 512,
    rms_norm_eps: 1e-5,
    rope_theta: 10000,
    tie_word_embeddings: true,
    num_local_experts: 4,
    num_experts_per_tok: 2,
    router_aux_loss_coef: 0.01,
    bos_token_id: 1,
    eos_token_id: 2,
  }),
};

/** A preset by name (`tiny`, `tiny-moe`), with optional field overrides validated again. */
export function presetConfig(name: string, overrides: ModelConfigInput = {}): ModelConfig {
  if (name !== 'tiny' && name !== 'tiny-moe')
    fail(`unknown preset ${JSON.stringify(name)}; expected 'tiny' or 'tiny-moe'`);
  return parseModelConfig({ ...MODEL_PRESETS[name], ...overrides });
}
