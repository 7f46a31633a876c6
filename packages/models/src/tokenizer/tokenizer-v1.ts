/** One message of a chat, as chat templates in `tokenizer_config.json` expect it. */
export interface ChatMessage {
  /** `system`, `user`, `assistant` (or whatever roles the template accepts). */
  readonly role: string;
  readonly content: string;
}

/** Options of {@link TokenizerV1.encode}. */
export interface EncodeOptions {
  /**
   * Add the tokenizer's framing special tokens (for our BPE and Llama-style
   * tokenizers: `<|begin_of_text|>` in front). Default `false`, because text
   * rendered by a chat template already carries them.
   */
  readonly addSpecialTokens?: boolean;
}

/** Options of {@link TokenizerV1.decode}. */
export interface DecodeOptions {
  /** Leave special tokens out of the text. Default `false`. */
  readonly skipSpecialTokens?: boolean;
}

/** Options of {@link TokenizerV1.applyChatTemplate}. */
export interface ChatTemplateOptions {
  /** End with the header that asks the assistant to answer. Default `false`. */
  readonly addGenerationPrompt?: boolean;
  /** Extra variables for the template (e.g. `tools`, `date_string`). */
  readonly extra?: Readonly<Record<string, unknown>>;
}

/**
 * The tokenizer contract of `@plexus/models`, version 1: implemented by the
 * byte-level BPE of this package and by Hugging Face `tokenizer.json` files
 * loaded through `@huggingface/tokenizers`, so the trainer and the server do
 * not care which one they hold.
 */
export interface TokenizerV1 {
  /** The contract version, so a v2 can live beside this one. */
  readonly specificationVersion: 'v1';
  /** One past the largest token id (embedding rows the model needs). */
  readonly vocabSize: number;
  /** Id of the beginning-of-text token, if the tokenizer has one. */
  readonly bosTokenId: number | undefined;
  /** Id of the end-of-text token, if the tokenizer has one. */
  readonly eosTokenId: number | undefined;
  /** Special (added) tokens by content, e.g. `<|eot_id|>` to its id. */
  readonly specialTokenIds: ReadonlyMap<string, number>;
  /** Token ids of `text`; special-token strings inside `text` become their ids. */
  encode(text: string, options?: EncodeOptions): number[];
  /** Text of `ids`; the inverse of `encode` on any well-formed string. */
  decode(ids: ArrayLike<number>, options?: DecodeOptions): string;
  /** Id of a vocabulary entry (a token string, e.g. `Ġthe`), or undefined. */
  tokenToId(token: string): number | undefined;
  /** Vocabulary entry of an id, or undefined. */
  idToToken(id: number): string | undefined;
  /** Render a chat with the tokenizer's chat template into text for `encode`. */
  applyChatTemplate(messages: readonly ChatMessage[], options?: ChatTemplateOptions): string;
}
