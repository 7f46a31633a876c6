import { cpSync, existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type CausalLM, saveCheckpoint } from '@plexus/models';

/**
 * Write the trained model as a Hugging Face model directory:
 * `config.json`, `model.safetensors` (float32) and the tokenizer files, the
 * layout `plexus-serve` (and `transformers`) load.
 */
export function exportHfModel(model: CausalLM, tokenizerDir: string, dir: string): void {
  mkdirSync(dir, { recursive: true });
  saveCheckpoint(model, dir, { dtype: 'F32' });
  for (const f of ['tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'])
    if (existsSync(join(tokenizerDir, f))) cpSync(join(tokenizerDir, f), join(dir, f));
}
