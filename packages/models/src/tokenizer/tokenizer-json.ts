import { PlexusModelsError } from '../errors.js';
import { ByteLevelBpeTokenizer } from './byte-level-bpe.js';
import { chatTemplateFromConfig } from './chat-template.js';
import { GPT2_PATTERN, type PreTokenizerPattern, patternFromSource } from './pre-tokenizer.js';

/** A Hugging Face `tokenizer.json` document (the parts this package reads and writes). */
export interface TokenizerJson {
  readonly version: string;
  readonly added_tokens: readonly {
    readonly id: number;
    readonly content: string;
    readonly single_word: boolean;
    readonly lstrip: boolean;
    readonly rstrip: boolean;
    readonly normalized: boolean;
    readonly special: boolean;
  }[];
  readonly normalizer: unknown;
  readonly pre_tokenizer: unknown;
  readonly post_processor: unknown;
  readonly decoder: unknown;
  readonly model: {
    readonly type: string;
    readonly vocab: Readonly<Record<string, number>>;
    readonly merges: readonly (string | readonly [string, string])[];
    readonly [key: string]: unknown;
  };
  readonly [key: string]: unknown;
}

/** A `tokenizer_config.json` document: special-token names and the chat template. */
export interface TokenizerConfigJson {
  readonly bos_token?: string | { readonly content: string } | null;
  readonly eos_token?: string | { readonly content: string } | null;
  readonly chat_template?: string | readonly { readonly name: string; readonly template: string }[];
  readonly [key: string]: unknown;
}

function byteLevelStep(useRegex: boolean) {
  return { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: useRegex };
}

function preTokenizerJson(pattern: PreTokenizerPattern): unknown {
  // GPT-2's regex is ByteLevel's built-in one; any other is a Split in front, as Llama 3 does.
  if (pattern.source === GPT2_PATTERN.source) return byteLevelStep(true);
  return {
    type: 'Sequence',
    pretokenizers: [
      { type: 'Split', pattern: { Regex: pattern.source }, behavior: 'Isolated', invert: false },
      byteLevelStep(false),
    ],
  };
}

function postProcessorJson(tok: ByteLevelBpeTokenizer): unknown {
  if (tok.bosToken === undefined || tok.bosTokenId === undefined) return null;
  const bos = (typeId: number) => ({ SpecialToken: { id: tok.bosToken, type_id: typeId } });
  const seq = (id: string, typeId: number) => ({ Sequence: { id, type_id: typeId } });
  return {
    type: 'TemplateProcessing',
    single: [bos(0), seq('A', 0)],
    pair: [bos(0), seq('A', 0), bos(1), seq('B', 1)],
    special_tokens: {
      [tok.bosToken]: { id: tok.bosToken, ids: [tok.bosTokenId], tokens: [tok.bosToken] },
    },
  };
}

/**
 * The Hugging Face `tokenizer.json` of a byte-level BPE: model `BPE`,
 * `ByteLevel` pre-tokenizer (behind a `Split` for non-GPT-2 patterns) and
 * decoder, special tokens as `added_tokens`, and a post-processor that puts
 * the beginning-of-text token in front when asked to add special tokens.
 */
export function toTokenizerJson(tok: ByteLevelBpeTokenizer): TokenizerJson {
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...tok.specialTokenIds].map(([content, id]) => ({
      id,
      content,
      single_word: false,
      lstrip: false,
      rstrip: false,
      normalized: false,
      special: true,
    })),
    normalizer: null,
    pre_tokenizer: preTokenizerJson(tok.pattern),
    post_processor: postProcessorJson(tok),
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab: Object.fromEntries(tok.vocab),
      merges: tok.merges.map(([a, b]) => [a, b] as const),
    },
  };
}

/** The `tokenizer_config.json` that goes with {@link toTokenizerJson}. */
export function toTokenizerConfigJson(tok: ByteLevelBpeTokenizer): TokenizerConfigJson {
  return {
    tokenizer_class: 'PreTrainedTokenizerFast',
    bos_token: tok.bosToken ?? null,
    eos_token: tok.eosToken ?? null,
    clean_up_tokenization_spaces: false,
    model_max_length: 1_000_000_000,
    chat_template: tok.chatTemplate,
  };
}

function fail(what: string): never {
  throw new PlexusModelsError(
    'tokenizer',
    `tokenizer.json is not a byte-level BPE this package reads: ${what}; load it with loadHfTokenizer instead`,
  );
}

function readPattern(preTokenizer: unknown): PreTokenizerPattern {
  const p = preTokenizer as {
    type?: string;
    use_regex?: boolean;
    add_prefix_space?: boolean;
    pretokenizers?: unknown[];
  };
  if (p?.type === 'ByteLevel') {
    if (p.use_regex === false) fail('its ByteLevel pre-tokenizer has no regex');
    if (p.add_prefix_space === true) fail('its ByteLevel pre-tokenizer adds a prefix space');
    return GPT2_PATTERN;
  }
  if (p?.type === 'Sequence' && Array.isArray(p.pretokenizers) && p.pretokenizers.length === 2) {
    const [split, byteLevel] = p.pretokenizers as [
      { type?: string; pattern?: { Regex?: string }; behavior?: string; invert?: boolean },
      { type?: string; use_regex?: boolean; add_prefix_space?: boolean },
    ];
    if (
      split?.type === 'Split' &&
      typeof split.pattern?.Regex === 'string' &&
      split.behavior === 'Isolated' &&
      split.invert !== true &&
      byteLevel?.type === 'ByteLevel' &&
      byteLevel.use_regex === false &&
      byteLevel.add_prefix_space !== true
    ) {
      return patternFromSource(split.pattern.Regex);
    }
  }
  return fail('its pre_tokenizer is neither ByteLevel nor Split + ByteLevel');
}

function tokenContent(value: TokenizerConfigJson['bos_token']): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : value.content;
}

/**
 * Read a byte-level BPE `tokenizer.json` (ours, GPT-2's, Llama 3's shape)
 * back into a {@link ByteLevelBpeTokenizer}; `config` (a
 * `tokenizer_config.json`) supplies the bos/eos tokens and chat template.
 */
export function byteLevelBpeFromTokenizerJson(
  json: TokenizerJson,
  config: TokenizerConfigJson = {},
): ByteLevelBpeTokenizer {
  if (json?.model?.type !== 'BPE')
    fail(`model type is ${JSON.stringify(json?.model?.type)}, not "BPE"`);
  if (json.normalizer !== null && json.normalizer !== undefined) fail('it has a normalizer');
  const model = json.model;
  if (model.byte_fallback === true) fail('it uses byte_fallback (a SentencePiece-style BPE)');
  if (model.ignore_merges === true) fail('it sets ignore_merges');
  const merges = model.merges.map((m, i): [string, string] => {
    if (typeof m === 'string') {
      const parts = m.split(' ');
      if (parts.length !== 2)
        fail(`merge ${i} ${JSON.stringify(m)} is not two space-separated tokens`);
      return [parts[0] as string, parts[1] as string];
    }
    if (Array.isArray(m) && m.length === 2) return [m[0], m[1]];
    return fail(`merge ${i} is neither "a b" nor ["a", "b"]`);
  });
  const specialTokens = new Map<string, number>();
  for (const added of json.added_tokens ?? []) specialTokens.set(added.content, added.id);
  return new ByteLevelBpeTokenizer({
    vocab: new Map(Object.entries(model.vocab)),
    merges,
    specialTokens,
    pattern: readPattern(json.pre_tokenizer),
    bosToken: tokenContent(config.bos_token),
    eosToken: tokenContent(config.eos_token),
    chatTemplate: chatTemplateFromConfig(config),
  });
}
