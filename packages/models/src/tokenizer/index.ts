export { bundledCorpusPath, loadBundledCorpus } from './bundled-corpus.js';
export { BYTE_TO_UNICODE, byteLevelToBytes, bytesToByteLevel } from './byte-level.js';
export type { ByteLevelBpeSpec } from './byte-level-bpe.js';
export { ByteLevelBpeTokenizer } from './byte-level-bpe.js';
export type { ChatTemplateTokens } from './chat-template.js';
export {
  chatTemplateFromConfig,
  LLAMA3_CHAT_TEMPLATE,
  renderChatTemplate,
} from './chat-template.js';
export { HfTokenizer, loadHfTokenizer } from './hf-tokenizer.js';
export type { PreTokenizerPattern } from './pre-tokenizer.js';
export {
  GPT2_PATTERN,
  LLAMA3_PATTERN,
  PRE_TOKENIZER_PATTERNS,
  preTokenize,
} from './pre-tokenizer.js';
export { DEFAULT_SPECIAL_TOKENS } from './special-tokens.js';
export {
  loadByteLevelBpeFromDir,
  loadHfTokenizerFromDir,
  saveByteLevelBpe,
} from './tokenizer-files.js';
export type { TokenizerConfigJson, TokenizerJson } from './tokenizer-json.js';
export {
  byteLevelBpeFromTokenizerJson,
  toTokenizerConfigJson,
  toTokenizerJson,
} from './tokenizer-json.js';
export type {
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  TokenizerV1,
} from './tokenizer-v1.js';
export type { TrainBpeOptions } from './train-bpe.js';
export { trainByteLevelBpe } from './train-bpe.js';
