import { Tokenizer } from '@huggingface/tokenizers';
import { PlexusModelsError } from '../errors.js';
import { chatTemplateFromConfig, renderChatTemplate } from './chat-template.js';
import type { TokenizerConfigJson } from './tokenizer-json.js';
import type {
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  TokenizerV1,
} from './tokenizer-v1.js';

function tokenContent(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { content?: unknown }).content === 'string'
  ) {
    return (value as { content: string }).content;
  }
  return undefined;
}

/**
 * Any Hugging Face `tokenizer.json` (BPE, WordPiece, Unigram; normalizers,
 * pre-tokenizers and decoders as the Rust library defines them) behind
 * {@link TokenizerV1}, through `@huggingface/tokenizers`.
 */
export class HfTokenizer implements TokenizerV1 {
  readonly specificationVersion = 'v1' as const;
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly specialTokenIds: ReadonlyMap<string, number>;
  /** The chat template of `tokenizer_config.json`, if it has one. */
  readonly chatTemplate: string | undefined;
  private readonly inner: Tokenizer;
  private readonly bosToken: string | undefined;
  private readonly eosToken: string | undefined;

  constructor(tokenizerJson: unknown, tokenizerConfig: TokenizerConfigJson = {}) {
    if (
      typeof tokenizerJson !== 'object' ||
      tokenizerJson === null ||
      !('model' in tokenizerJson)
    ) {
      throw new PlexusModelsError(
        'tokenizer',
        'expected a parsed tokenizer.json object with a "model" field',
      );
    }
    try {
      this.inner = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (cause) {
      throw new PlexusModelsError(
        'tokenizer',
        `@huggingface/tokenizers rejected tokenizer.json: ${String(cause)}`,
        {
          cause,
        },
      );
    }
    let maxId = -1;
    for (const id of this.inner.get_vocab(true).values()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    const specials = new Map<string, number>();
    for (const [id, token] of this.inner.get_added_tokens_decoder()) {
      if (token.special) specials.set(token.content, id);
    }
    this.specialTokenIds = specials;
    this.bosToken = tokenContent(tokenizerConfig.bos_token);
    this.eosToken = tokenContent(tokenizerConfig.eos_token);
    this.bosTokenId =
      this.bosToken === undefined ? undefined : this.inner.token_to_id(this.bosToken);
    this.eosTokenId =
      this.eosToken === undefined ? undefined : this.inner.token_to_id(this.eosToken);
    this.chatTemplate = chatTemplateFromConfig(tokenizerConfig);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') {
      throw new PlexusModelsError('tokenizer', `encode expects a string, got ${typeof text}`);
    }
    return this.inner.encode(text, { add_special_tokens: options.addSpecialTokens ?? false }).ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    // @huggingface/tokenizers rejects an empty list; the empty text is its decoding.
    if (ids.length === 0) return '';
    return this.inner.decode(Array.from(ids), {
      skip_special_tokens: options.skipSpecialTokens ?? false,
      clean_up_tokenization_spaces: false,
    });
  }

  tokenToId(token: string): number | undefined {
    return this.inner.token_to_id(token);
  }

  idToToken(id: number): string | undefined {
    return this.inner.id_to_token(id);
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    if (this.chatTemplate === undefined) {
      throw new PlexusModelsError(
        'tokenizer',
        'this tokenizer has no chat template: tokenizer_config.json lacks "chat_template"',
      );
    }
    return renderChatTemplate(
      this.chatTemplate,
      messages,
      { bosToken: this.bosToken, eosToken: this.eosToken },
      options,
    );
  }
}

/**
 * Load any Hugging Face tokenizer from its parsed `tokenizer.json` and
 * (optionally) `tokenizer_config.json`.
 */
export function loadHfTokenizer(
  tokenizerJson: unknown,
  tokenizerConfig?: TokenizerConfigJson,
): HfTokenizer {
  return new HfTokenizer(tokenizerJson, tokenizerConfig);
}
