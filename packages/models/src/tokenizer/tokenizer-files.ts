import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PlexusModelsError } from '../errors.js';
import type { ByteLevelBpeTokenizer } from './byte-level-bpe.js';
import { type HfTokenizer, loadHfTokenizer } from './hf-tokenizer.js';
import {
  byteLevelBpeFromTokenizerJson,
  type TokenizerConfigJson,
  type TokenizerJson,
  toTokenizerConfigJson,
  toTokenizerJson,
} from './tokenizer-json.js';

function readJson(path: string, required: boolean): unknown {
  if (!existsSync(path)) {
    if (!required) return undefined;
    throw new PlexusModelsError(
      'tokenizer',
      `${path} does not exist; a tokenizer directory needs tokenizer.json`,
    );
  }
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (cause) {
    throw new PlexusModelsError('tokenizer', `${path} is not valid JSON: ${String(cause)}`, {
      cause,
    });
  }
}

function writeAtomically(path: string, text: string): void {
  const temp = `${path}.tmp-${process.pid}`;
  writeFileSync(temp, text);
  renameSync(temp, path);
}

/**
 * Write `tokenizer.json` and `tokenizer_config.json` into `dir` (created if
 * missing), in the layout of a Hugging Face model directory.
 */
export function saveByteLevelBpe(tok: ByteLevelBpeTokenizer, dir: string): void {
  mkdirSync(dir, { recursive: true });
  writeAtomically(join(dir, 'tokenizer.json'), JSON.stringify(toTokenizerJson(tok)));
  writeAtomically(
    join(dir, 'tokenizer_config.json'),
    `${JSON.stringify(toTokenizerConfigJson(tok), null, 2)}\n`,
  );
}

/** Read a byte-level BPE saved by {@link saveByteLevelBpe} (or a GPT-2 / Llama 3 style one). */
export function loadByteLevelBpeFromDir(dir: string): ByteLevelBpeTokenizer {
  const json = readJson(join(dir, 'tokenizer.json'), true) as TokenizerJson;
  const config = readJson(join(dir, 'tokenizer_config.json'), false) as
    | TokenizerConfigJson
    | undefined;
  return byteLevelBpeFromTokenizerJson(json, config);
}

/** Load any Hugging Face tokenizer directory (`tokenizer.json`, optional `tokenizer_config.json`). */
export function loadHfTokenizerFromDir(dir: string): HfTokenizer {
  const json = readJson(join(dir, 'tokenizer.json'), true);
  const config = readJson(join(dir, 'tokenizer_config.json'), false) as
    | TokenizerConfigJson
    | undefined;
  return loadHfTokenizer(json, config);
}
