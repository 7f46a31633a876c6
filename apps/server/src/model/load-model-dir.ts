import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadCheckpoint, loadHfTokenizerFromDir, type TokenizerV1 } from '@plexus/models';
import type { ServingTokenizerV1 } from '../engine/model.js';
import { CausalLmServingModel } from './causal-lm-serving-model.js';

/** A model directory loaded for serving. */
export interface LoadedModel {
  readonly model: CausalLmServingModel;
  readonly tokenizer: ServingTokenizerV1;
  readonly eosTokenIds: number[];
}

/** Adapts a `@plexus/models` tokenizer to what the server needs. */
export function servingTokenizer(tok: TokenizerV1): {
  tokenizer: ServingTokenizerV1;
  eos: number[];
} {
  const eos = new Set<number>();
  if (tok.eosTokenId !== undefined) eos.add(tok.eosTokenId);
  for (const name of ['<|eot_id|>', '<|end_of_text|>', '</s>', '<|im_end|>']) {
    const id = tok.specialTokenIds.get(name);
    if (id !== undefined) eos.add(id);
  }
  return {
    eos: [...eos],
    tokenizer: {
      eosTokenIds: [...eos],
      encode: (text) => tok.encode(text),
      decode: (ids) => tok.decode(ids),
      applyChatTemplate: (messages, options) => tok.applyChatTemplate(messages, options),
    },
  };
}

/**
 * Loads a checkpoint directory in the Hugging Face layout (`config.json`,
 * `*.safetensors`, `tokenizer.json`, `tokenizer_config.json`): what
 * `plexus-train lm` writes and what Llama/Mixtral repositories hold.
 */
export function loadModelDir(dir: string): LoadedModel {
  const path = resolve(dir);
  for (const file of ['config.json', 'tokenizer.json']) {
    if (!existsSync(join(path, file))) {
      throw new Error(
        `${path} has no ${file}; expected a model directory in the Hugging Face layout (config.json, *.safetensors, tokenizer.json)`,
      );
    }
  }
  const causal = loadCheckpoint(path);
  const { tokenizer, eos } = servingTokenizer(loadHfTokenizerFromDir(path));
  // plexus-train lm writes RUN/model: name the model after the run.
  const id = basename(path) === 'model' ? basename(dirname(path)) : basename(path);
  return { model: new CausalLmServingModel(causal, id), tokenizer, eosTokenIds: eos };
}
