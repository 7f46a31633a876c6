/** Per-request sampling settings, validated by the HTTP layer. */
export interface SamplingParams {
  /** Most tokens to generate. */
  readonly maxTokens: number;
  /** 0 = greedy. */
  readonly temperature: number;
  /** Nucleus mass in (0, 1]. */
  readonly topP: number;
  /** Keep the k most likely tokens; 0 = all. */
  readonly topK: number;
  /** Seed of this request's sampler; unseeded requests draw one. */
  readonly seed: number;
  /** Number of choices (parallel samples sharing the prompt's blocks). */
  readonly n: number;
  /** Top log-probabilities to return per token (0 = none; the chosen token's is always kept). */
  readonly logprobs: number;
  /** Token ids that end a choice besides the tokenizer's EOS. */
  readonly stopTokenIds: readonly number[];
}

/** Why a choice ended (OpenAI's `finish_reason`, plus `abort`). */
export type FinishReason = 'stop' | 'length' | 'abort';

/** Greedy decoding of up to `maxTokens` tokens, one choice, no logprobs; `extra` overrides. */
export function greedySampling(
  maxTokens: number,
  extra: Partial<SamplingParams> = {},
): SamplingParams {
  return {
    maxTokens,
    temperature: 0,
    topP: 1,
    topK: 0,
    seed: 0,
    n: 1,
    logprobs: 0,
    stopTokenIds: [],
    ...extra,
  };
}
