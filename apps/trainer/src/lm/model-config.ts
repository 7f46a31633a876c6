import { readFileSync } from 'node:fs';
import { type ModelConfig, parseModelConfig, presetConfig, type TokenizerV1 } from '@plexus/models';
import { UsageError } from '../usage-error.js';

/**
 * The model config of `--config` (a preset or a `config.json`), with the
 * vocabulary and the BOS/EOS ids taken from the run's tokenizer so the
 * embedding has exactly one row per token.
 */
export function resolveModelConfig(config: string, tokenizer: TokenizerV1): ModelConfig {
  const overrides = {
    vocab_size: tokenizer.vocabSize,
    bos_token_id: tokenizer.bosTokenId ?? null,
    eos_token_id: tokenizer.eosTokenId ?? null,
  };
  if (config === 'tiny' || config === 'tiny-moe') return presetConfig(config, overrides);
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(readFileSync(config, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(
      `--config '${config}' is not a readable JSON file: ${(e as Error).message}`,
    );
  }
  return parseModelConfig({ ...raw, ...overrides });
}

/** The vocabulary size to train a tokenizer with for `--config` (the preset's 512, or the file's). */
export function configVocabSize(config: string): number {
  if (config === 'tiny' || config === 'tiny-moe') return presetConfig(config).vocab_size;
  try {
    const v = (JSON.parse(readFileSync(config, 'utf8')) as { vocab_size?: unknown }).vocab_size;
    return typeof v === 'number' && Number.isInteger(v) && v > 256 ? v : 512;
  } catch {
    return 512;
  }
}
