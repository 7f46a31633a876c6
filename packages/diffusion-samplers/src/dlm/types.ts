import type * as tf from '@tensorflow/tfjs-core';

/**
 * Per-layer keys and values of some positions: each tensor is
 * `[batch, positions, numKvHeads, headDim]`, one per layer.
 */
export interface DlmKv {
  readonly keys: readonly tf.Tensor4D[];
  readonly values: readonly tf.Tensor4D[];
}

/** Arguments of {@link MaskedDiffusionLmKvHooksV1.forwardWithKv}. */
export interface DlmPartialForward {
  /** Token ids `[batch, n]` (int32) at `positions`. */
  readonly ids: tf.Tensor2D;
  /** The `n` absolute positions of `ids`, strictly ascending. */
  readonly positions: readonly number[];
  /**
   * K/V of other positions to attend to besides the queries themselves
   * (cached, possibly stale): `positions` ascending, disjoint from the
   * queries'. Without it the queries attend only to each other.
   */
  readonly context?: { readonly positions: readonly number[] } & DlmKv;
}

/** What {@link MaskedDiffusionLmKvHooksV1.forwardWithKv} returns; the caller disposes every tensor. */
export interface DlmPartialOutput extends DlmKv {
  /** Logits `[batch, n, vocab]` of the query positions. */
  readonly logits: tf.Tensor3D;
}

/**
 * K/V caching hooks of a bidirectional transformer, what the approximate
 * caches of Fast-dLLM (2025) and dKV-Cache (2025) need: run the model on a
 * subset of positions, attending to given K/V for the others, and return the
 * queries' own per-layer K/V. Calling it on every position without context
 * must equal {@link MaskedDiffusionLmV1.forward}.
 */
export interface MaskedDiffusionLmKvHooksV1 {
  readonly numLayers: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  forwardWithKv(args: DlmPartialForward): DlmPartialOutput | Promise<DlmPartialOutput>;
}

/**
 * A masked diffusion language model (LLaDA, "Large Language Diffusion
 * Models", 2025; SMDM, "Scaling up Masked Diffusion Models on Text", 2024):
 * a bidirectional network predicting every position's token from a sequence
 * in which some tokens are `maskId`. Versioned so v2 can live beside it.
 */
export interface MaskedDiffusionLmV1 {
  readonly specificationVersion: 'v1';
  readonly vocabSize: number;
  /** Id of the mask token; logits over `vocabSize` may include it. */
  readonly maskId: number;
  /** Logits `[batch, length, vocab]` for ids `[batch, length]` (int32); the decoder disposes them. */
  forward(ids: tf.Tensor2D): tf.Tensor3D | Promise<tf.Tensor3D>;
  /** Optional K/V hooks; the cached decoders require them. */
  readonly kv?: MaskedDiffusionLmKvHooksV1;
}

/**
 * A causal language model: row `i` of the logits `[batch, length, vocab]`
 * predicts token `i + 1` from tokens `0..i`. APD's small verifier.
 */
export interface AutoregressiveLmV1 {
  readonly specificationVersion: 'v1';
  readonly vocabSize: number;
  forward(ids: tf.Tensor2D): tf.Tensor3D | Promise<tf.Tensor3D>;
}

/** Which positions one decoding step queried and unmasked. */
export interface DlmStepTrace {
  /** 0-based block index (APD: always 0). */
  readonly block: number;
  /** 0-based step within the block. */
  readonly step: number;
  /** Positions the model computed this step (all positions for an uncached call). */
  readonly queried: readonly number[];
  /** Per batch row, the positions unmasked this step, ascending. */
  readonly unmasked: readonly (readonly number[])[];
  /** True if this step ran the model on every position (cache refresh). */
  readonly full: boolean;
}

/** Arguments of {@link DlmDecoderV1.decode}. */
export interface DlmDecodeArgs {
  readonly model: MaskedDiffusionLmV1;
  /** Prompt token ids per batch row, all the same length (at least 1), no mask tokens. */
  readonly prompt: readonly (readonly number[])[];
  /** Tokens to generate after the prompt. */
  readonly genLength: number;
  /** Seed of Gumbel noise and random remasking; default 0. */
  readonly seed?: number;
  /** Called after every step. */
  readonly onStep?: (trace: DlmStepTrace) => void;
}

/** What {@link DlmDecoderV1.decode} returns. */
export interface DlmDecodeResult {
  /** Prompt + generation per batch row. */
  readonly tokens: Int32Array[];
  /** Model forward calls (a CFG call counts once, on a doubled batch). */
  readonly modelCalls: number;
  /** Query positions computed, summed over calls (per batch row): the cost a cache saves. */
  readonly positionsComputed: number;
  /** Verifier calls (APD only, else 0). */
  readonly verifierCalls: number;
}

/** A diffusion-LM decoder, versioned like {@link SamplerV1}. */
export interface DlmDecoderV1 {
  readonly specificationVersion: 'v1';
  /** Stable identifier, e.g. `low-confidence` or `threshold`. */
  readonly name: string;
  decode(args: DlmDecodeArgs): Promise<DlmDecodeResult>;
}
