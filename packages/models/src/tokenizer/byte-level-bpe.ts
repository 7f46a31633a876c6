import { PlexusModelsError } from '../errors.js';
import { BYTE_TO_UNICODE, byteLevelToBytes } from './byte-level.js';
import { LLAMA3_CHAT_TEMPLATE, renderChatTemplate } from './chat-template.js';
import { MAX_TOKEN_ID, pairKey } from './internal/pair-key.js';
import { type PreTokenizerPattern, preTokenize } from './pre-tokenizer.js';
import { SpecialTokenSplitter } from './special-tokens.js';
import type {
  ChatMessage,
  ChatTemplateOptions,
  DecodeOptions,
  EncodeOptions,
  TokenizerV1,
} from './tokenizer-v1.js';

/** Everything that defines a byte-level BPE tokenizer. */
export interface ByteLevelBpeSpec {
  /** Byte-level token strings to ids; must contain all 256 single bytes. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merges in rank order (earliest learned first), as pairs of token strings. */
  readonly merges: readonly (readonly [string, string])[];
  /** Special (added) tokens, content to id; matched in text before BPE. */
  readonly specialTokens: ReadonlyMap<string, number>;
  readonly pattern: PreTokenizerPattern;
  /** Content of the beginning-of-text special token, if any. */
  readonly bosToken?: string | undefined;
  /** Content of the end-of-text special token, if any. */
  readonly eosToken?: string | undefined;
  /** Jinja chat template; default {@link LLAMA3_CHAT_TEMPLATE}. */
  readonly chatTemplate?: string | undefined;
}

const CACHE_LIMIT = 100_000;
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/**
 * Byte-level BPE ("Neural Machine Translation of Rare Words with Subword
 * Units", Sennrich et al. 2016, over bytes as in GPT-2, Radford et al. 2019):
 * pre-tokenise with a regex, map each piece's UTF-8 bytes to byte tokens, then
 * apply the lowest-ranked merge until none applies. Every string encodes, and
 * decoding gives it back.
 */
export class ByteLevelBpeTokenizer implements TokenizerV1 {
  readonly specificationVersion = 'v1' as const;
  readonly vocabSize: number;
  readonly bosTokenId: number | undefined;
  readonly eosTokenId: number | undefined;
  readonly specialTokenIds: ReadonlyMap<string, number>;
  /** Byte-level token strings (`Ġthe`) to ids, without the special tokens. */
  readonly vocab: ReadonlyMap<string, number>;
  /** Merges in rank order, as pairs of token strings. */
  readonly merges: readonly (readonly [string, string])[];
  /** The pre-tokenisation pattern. */
  readonly pattern: PreTokenizerPattern;
  /** Content of the beginning-of-text token, if any. */
  readonly bosToken: string | undefined;
  /** Content of the end-of-text token, if any. */
  readonly eosToken: string | undefined;
  /** The Jinja chat template {@link applyChatTemplate} renders. */
  readonly chatTemplate: string;

  private readonly byteIds: Int32Array;
  private readonly ranks = new Map<number, number>();
  private readonly mergedIds: Int32Array;
  private readonly mergeLeft: Int32Array;
  private readonly mergeRight: Int32Array;
  private readonly tokens: (string | undefined)[];
  private readonly tokenBytes: (Uint8Array | undefined)[];
  private readonly splitter: SpecialTokenSplitter;
  private readonly cache = new Map<string, number[]>();
  private readonly encoder = new TextEncoder();
  private readonly decoder = new TextDecoder('utf-8');

  constructor(spec: ByteLevelBpeSpec) {
    this.vocab = spec.vocab;
    this.merges = spec.merges;
    this.pattern = spec.pattern;
    this.specialTokenIds = spec.specialTokens;
    this.chatTemplate = spec.chatTemplate ?? LLAMA3_CHAT_TEMPLATE;

    let maxId = -1;
    for (const id of [...spec.vocab.values(), ...spec.specialTokens.values()]) {
      if (!Number.isInteger(id) || id < 0 || id >= MAX_TOKEN_ID) {
        throw new PlexusModelsError(
          'tokenizer',
          `token id ${id} is not an integer in [0, ${MAX_TOKEN_ID})`,
        );
      }
      maxId = Math.max(maxId, id);
    }
    this.vocabSize = maxId + 1;
    this.tokens = new Array<string | undefined>(this.vocabSize);
    this.tokenBytes = new Array<Uint8Array | undefined>(this.vocabSize);
    for (const [token, id] of spec.vocab) {
      this.tokens[id] = token;
      const bytes = byteLevelToBytes(token);
      if (bytes === undefined) {
        throw new PlexusModelsError(
          'tokenizer',
          `vocabulary entry ${JSON.stringify(token)} is not a byte-level string (GPT-2 byte-to-unicode characters only)`,
        );
      }
      this.tokenBytes[id] = Uint8Array.from(bytes);
    }
    for (const [content, id] of spec.specialTokens) {
      this.tokens[id] = content;
      this.tokenBytes[id] = this.encoder.encode(content);
    }

    this.byteIds = new Int32Array(256);
    for (let byte = 0; byte < 256; byte++) {
      const id = spec.vocab.get(BYTE_TO_UNICODE[byte] as string);
      if (id === undefined) {
        throw new PlexusModelsError(
          'tokenizer',
          `vocabulary lacks the byte token ${JSON.stringify(BYTE_TO_UNICODE[byte])} (byte ${byte}); a byte-level BPE needs all 256`,
        );
      }
      this.byteIds[byte] = id;
    }

    this.mergedIds = new Int32Array(spec.merges.length);
    this.mergeLeft = new Int32Array(spec.merges.length);
    this.mergeRight = new Int32Array(spec.merges.length);
    spec.merges.forEach(([left, right], rank) => {
      const l = spec.vocab.get(left);
      const r = spec.vocab.get(right);
      const merged = spec.vocab.get(left + right);
      if (l === undefined || r === undefined || merged === undefined) {
        throw new PlexusModelsError(
          'tokenizer',
          `merge ${rank} (${JSON.stringify(left)}, ${JSON.stringify(right)}) uses or makes a token missing from the vocabulary`,
        );
      }
      const key = pairKey(l, r);
      // A repeated merge keeps its first (lowest) rank, as in Hugging Face.
      if (!this.ranks.has(key)) this.ranks.set(key, rank);
      this.mergedIds[rank] = merged;
      this.mergeLeft[rank] = l;
      this.mergeRight[rank] = r;
    });

    const idOf = (content: string | undefined, what: string): number | undefined => {
      if (content === undefined) return undefined;
      const id = spec.specialTokens.get(content);
      if (id === undefined) {
        throw new PlexusModelsError(
          'tokenizer',
          `${what} token ${JSON.stringify(content)} is not one of the special tokens`,
        );
      }
      return id;
    };
    this.bosToken = spec.bosToken;
    this.eosToken = spec.eosToken;
    this.bosTokenId = idOf(spec.bosToken, 'bos');
    this.eosTokenId = idOf(spec.eosToken, 'eos');
    this.splitter = new SpecialTokenSplitter(spec.specialTokens);
  }

  encode(text: string, options: EncodeOptions = {}): number[] {
    if (typeof text !== 'string') {
      throw new PlexusModelsError('tokenizer', `encode expects a string, got ${typeof text}`);
    }
    if (LONE_SURROGATE.test(text)) {
      throw new PlexusModelsError(
        'tokenizer',
        'text contains a lone UTF-16 surrogate, which has no UTF-8 encoding; pass well-formed strings',
      );
    }
    const ids: number[] = [];
    if (options.addSpecialTokens === true && this.bosTokenId !== undefined)
      ids.push(this.bosTokenId);
    for (const part of this.splitter.split(text)) {
      if (typeof part === 'number') {
        ids.push(part);
        continue;
      }
      for (const piece of preTokenize(part, this.pattern)) {
        for (const id of this.encodePiece(piece)) ids.push(id);
      }
    }
    return ids;
  }

  decode(ids: ArrayLike<number>, options: DecodeOptions = {}): string {
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as number;
      const bytes = Number.isInteger(id) ? this.tokenBytes[id] : undefined;
      if (bytes === undefined) {
        throw new PlexusModelsError(
          'tokenizer',
          `cannot decode id ${id} at position ${i}: ids are integers in [0, ${this.vocabSize}) that the vocabulary uses`,
        );
      }
      if (
        options.skipSpecialTokens === true &&
        this.specialTokenIds.has(this.tokens[id] as string)
      ) {
        continue;
      }
      chunks.push(bytes);
      length += bytes.length;
    }
    const all = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      all.set(chunk, offset);
      offset += chunk.length;
    }
    return this.decoder.decode(all);
  }

  tokenToId(token: string): number | undefined {
    return this.specialTokenIds.get(token) ?? this.vocab.get(token);
  }

  idToToken(id: number): string | undefined {
    return Number.isInteger(id) ? this.tokens[id] : undefined;
  }

  applyChatTemplate(messages: readonly ChatMessage[], options: ChatTemplateOptions = {}): string {
    return renderChatTemplate(
      this.chatTemplate,
      messages,
      { bosToken: this.bosToken, eosToken: this.eosToken },
      options,
    );
  }

  /** BPE of one pre-token: repeatedly merge every occurrence of the lowest-ranked pair. */
  private encodePiece(piece: string): number[] {
    const cached = this.cache.get(piece);
    if (cached !== undefined) return cached;
    let symbols = Array.from(this.encoder.encode(piece), (byte) => this.byteIds[byte] as number);
    while (symbols.length > 1) {
      let bestRank = Number.POSITIVE_INFINITY;
      for (let i = 0; i + 1 < symbols.length; i++) {
        const rank = this.ranks.get(pairKey(symbols[i] as number, symbols[i + 1] as number));
        if (rank !== undefined && rank < bestRank) bestRank = rank;
      }
      if (bestRank === Number.POSITIVE_INFINITY) break;
      const left = this.mergeLeft[bestRank] as number;
      const right = this.mergeRight[bestRank] as number;
      const merged = this.mergedIds[bestRank] as number;
      const next: number[] = [];
      for (let i = 0; i < symbols.length; i++) {
        if (symbols[i] === left && symbols[i + 1] === right) {
          next.push(merged);
          i++;
        } else {
          next.push(symbols[i] as number);
        }
      }
      symbols = next;
    }
    if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
    this.cache.set(piece, symbols);
    return symbols;
  }
}
