import type { BlockCopy } from '@plexus/kv-cache';

/** One sequence's work in a model step: feed `tokens` at positions `startPos…`. */
export interface ModelStepEntry {
  /** The engine's sequence id (stable while the sequence lives). */
  readonly seqId: number;
  /** Token ids whose K/V are written and whose logits may be read. */
  readonly tokens: Int32Array;
  /** Position of `tokens[0]` in the sequence. */
  readonly startPos: number;
  /** Device blocks of the whole sequence (from the block manager). */
  readonly blockTable: readonly number[];
  /** Return logits for every fed token (speculative verification), not only the last. */
  readonly allLogits?: boolean;
}

/**
 * What the serving engine needs of a causal language model: a paged K/V
 * store it allocates once, a batched step over mixed prefill chunks and
 * decodes, and block copies for copy-on-write. `@plexus/models` adapts its
 * Llama/Mixtral models to it; tests use small deterministic models.
 */
export interface ServingModelV1 {
  readonly specificationVersion: 'v1';
  /** Name reported by `GET /v1/models`. */
  readonly id: string;
  readonly vocabSize: number;
  /** Longest sequence (prompt + output) the model accepts. */
  readonly maxContextLength: number;
  /** Allocates the K/V pool the block tables index (called once, before any step). */
  allocateCache(options: { readonly numBlocks: number; readonly blockSize: number }): void;
  /**
   * Writes each entry's K/V and returns its logits: one `vocabSize` row per
   * entry (the last fed token), or one per fed token with `allLogits`.
   */
  step(entries: readonly ModelStepEntry[]): Float32Array[];
  /** Copy-on-write copies the block manager asked for. */
  copyBlocks(copies: readonly BlockCopy[]): void;
  /** Expert load of the last step, for MoE models (per layer, per expert). */
  expertLoad?(): readonly (readonly number[])[];
}

/** What the engine and HTTP layer need of a tokenizer. */
export interface ServingTokenizerV1 {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
  /** Token ids that end generation. */
  readonly eosTokenIds: readonly number[];
  /** Renders chat messages to the prompt text (the checkpoint's template). */
  applyChatTemplate(
    messages: readonly { readonly role: string; readonly content: string }[],
    options: { readonly addGenerationPrompt: boolean },
  ): string;
}
