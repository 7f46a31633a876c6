import { PlexusModelsError } from '../errors.js';
import { BYTE_TO_UNICODE } from './byte-level.js';
import { ByteLevelBpeTokenizer } from './byte-level-bpe.js';
import { PairHeap } from './internal/pair-heap.js';
import { pairKey, pairLeft, pairRight } from './internal/pair-key.js';
import {
  LLAMA3_PATTERN,
  PRE_TOKENIZER_PATTERNS,
  type PreTokenizerPattern,
  preTokenize,
} from './pre-tokenizer.js';
import { DEFAULT_SPECIAL_TOKENS, SpecialTokenSplitter } from './special-tokens.js';

/** Options of {@link trainByteLevelBpe}. */
export interface TrainBpeOptions {
  /**
   * Total vocabulary size: 256 byte tokens, the learned merges and the special
   * tokens. Training stops earlier when no pair reaches `minFrequency`.
   */
  readonly vocabSize: number;
  /** Special tokens, given ids after the merges. Default {@link DEFAULT_SPECIAL_TOKENS}. */
  readonly specialTokens?: readonly string[];
  /** Pre-tokenisation pattern. Default `llama3`. */
  readonly pattern?: PreTokenizerPattern['name'] | PreTokenizerPattern;
  /** A pair is merged only if it occurs at least this often. Default 2. */
  readonly minFrequency?: number;
  /** Beginning-of-text token. Default `<|begin_of_text|>` when it is special. */
  readonly bosToken?: string;
  /** End-of-text token. Default `<|end_of_text|>` when it is special. */
  readonly eosToken?: string;
  /** Chat template stored with the tokenizer. Default Llama 3's. */
  readonly chatTemplate?: string;
}

/** Word types of a corpus with their counts, each as its byte-token ids. */
interface WordTable {
  readonly symbols: number[][];
  readonly counts: number[];
}

function countWords(
  corpus: string | Iterable<string>,
  splitter: SpecialTokenSplitter,
  pattern: PreTokenizerPattern,
): WordTable {
  const counts = new Map<string, number>();
  for (const doc of typeof corpus === 'string' ? [corpus] : corpus) {
    for (const part of splitter.split(doc)) {
      if (typeof part === 'number') continue;
      for (const piece of preTokenize(part, pattern))
        counts.set(piece, (counts.get(piece) ?? 0) + 1);
    }
  }
  const encoder = new TextEncoder();
  const table: WordTable = { symbols: [], counts: [] };
  for (const [word, count] of counts) {
    table.symbols.push(Array.from(encoder.encode(word)));
    table.counts.push(count);
  }
  return table;
}

function resolvePattern(pattern: TrainBpeOptions['pattern']): PreTokenizerPattern {
  if (pattern === undefined) return LLAMA3_PATTERN;
  if (typeof pattern !== 'string') return pattern;
  const found = PRE_TOKENIZER_PATTERNS[pattern];
  if (found === undefined) {
    throw new PlexusModelsError(
      'tokenizer',
      `unknown pattern "${pattern}": expected ${Object.keys(PRE_TOKENIZER_PATTERNS).join(' or ')}`,
    );
  }
  return found;
}

/**
 * Learn byte-level BPE merges from a corpus (Sennrich et al. 2016, "Neural
 * Machine Translation of Rare Words with Subword Units"; bytes as in GPT-2).
 *
 * Training works on word types, not the text: pair counts are kept
 * incrementally, each merge touches only the word types that contain the
 * merged pair (found through a pair-to-words index), and the next pair comes
 * from a max-heap with lazily refreshed counts, so a merge costs time in
 * proportion to the words it changes rather than a recount of the corpus.
 * Ties in count go to the pair with the smaller (left id, right id).
 *
 * @example
 * const tok = trainByteLevelBpe(loadBundledCorpus(), { vocabSize: 4096 });
 * tok.decode(tok.encode('It is a truth universally acknowledged')); // the same text
 */
export function trainByteLevelBpe(
  corpus: string | Iterable<string>,
  options: TrainBpeOptions,
): ByteLevelBpeTokenizer {
  const specials = options.specialTokens ?? DEFAULT_SPECIAL_TOKENS;
  const minFrequency = options.minFrequency ?? 2;
  const pattern = resolvePattern(options.pattern);
  if (new Set(specials).size !== specials.length || specials.some((s) => s.length === 0)) {
    throw new PlexusModelsError('tokenizer', 'special tokens must be distinct non-empty strings');
  }
  const baseTarget = options.vocabSize - specials.length;
  if (!Number.isInteger(options.vocabSize) || baseTarget < 256) {
    throw new PlexusModelsError(
      'tokenizer',
      `vocabSize ${options.vocabSize} is too small: it must be an integer of at least 256 + ${specials.length} (bytes + special tokens)`,
    );
  }
  if (!Number.isInteger(minFrequency) || minFrequency < 1) {
    throw new PlexusModelsError(
      'tokenizer',
      `minFrequency must be a positive integer, got ${minFrequency}`,
    );
  }

  const words = countWords(
    corpus,
    new SpecialTokenSplitter(new Map(specials.map((s, i) => [s, i]))),
    pattern,
  );
  const tokenStrings: string[] = [...BYTE_TO_UNICODE];
  const vocab = new Map<string, number>(tokenStrings.map((t, id) => [t, id]));
  const merges: [string, string][] = [];

  const pairCounts = new Map<number, number>();
  const wordsWithPair = new Map<number, number[]>();
  words.symbols.forEach((symbols, w) => {
    const count = words.counts[w] as number;
    for (let i = 0; i + 1 < symbols.length; i++) {
      const key = pairKey(symbols[i] as number, symbols[i + 1] as number);
      pairCounts.set(key, (pairCounts.get(key) ?? 0) + count);
      addWord(wordsWithPair, key, w);
    }
  });
  const heap = new PairHeap();
  for (const [key, count] of pairCounts) heap.push(count, key);

  const lastVisit = new Int32Array(words.symbols.length).fill(-1);
  while (vocab.size < baseTarget) {
    const top = heap.pop();
    if (top === undefined) break;
    const [count, key] = top;
    const live = pairCounts.get(key) ?? 0;
    if (live !== count) {
      if (live > 0) heap.push(live, key);
      continue;
    }
    if (count < minFrequency) break;

    const left = pairLeft(key);
    const right = pairRight(key);
    const leftToken = tokenStrings[left] as string;
    const rightToken = tokenStrings[right] as string;
    const mergedToken = leftToken + rightToken;
    // Two merge orders can spell the same string; they share one id.
    let merged = vocab.get(mergedToken);
    if (merged === undefined) {
      merged = tokenStrings.length;
      tokenStrings.push(mergedToken);
      vocab.set(mergedToken, merged);
    }
    const mergeIndex = merges.length;
    merges.push([leftToken, rightToken]);

    const delta = new Map<number, number>();
    for (const w of wordsWithPair.get(key) ?? []) {
      if (lastVisit[w] === mergeIndex) continue;
      lastVisit[w] = mergeIndex;
      const before = words.symbols[w] as number[];
      const after = mergeWord(before, left, right, merged);
      if (after === before) continue;
      words.symbols[w] = after;
      const f = words.counts[w] as number;
      for (let i = 0; i + 1 < before.length; i++) {
        const k = pairKey(before[i] as number, before[i + 1] as number);
        delta.set(k, (delta.get(k) ?? 0) - f);
      }
      for (let i = 0; i + 1 < after.length; i++) {
        const a = after[i] as number;
        const b = after[i + 1] as number;
        const k = pairKey(a, b);
        delta.set(k, (delta.get(k) ?? 0) + f);
        if (a === merged || b === merged) {
          addWord(wordsWithPair, k, w);
        }
      }
    }
    for (const [k, d] of delta) {
      if (d === 0) continue;
      const updated = (pairCounts.get(k) ?? 0) + d;
      if (updated > 0) pairCounts.set(k, updated);
      else pairCounts.delete(k);
      // Only pairs with the new token can grow; the others' stale heap entries are refreshed on pop.
      if (d > 0) heap.push(updated, k);
    }
    pairCounts.delete(key);
    wordsWithPair.delete(key);
  }

  const specialTokens = new Map(specials.map((s, i) => [s, tokenStrings.length + i]));
  const has = (s: string) => (specialTokens.has(s) ? s : undefined);
  return new ByteLevelBpeTokenizer({
    vocab,
    merges,
    specialTokens,
    pattern,
    bosToken: options.bosToken ?? has('<|begin_of_text|>'),
    eosToken: options.eosToken ?? has('<|end_of_text|>'),
    chatTemplate: options.chatTemplate,
  });
}

/** `symbols` with every (left, right), scanned left to right, replaced by `merged`; the same array if none. */
function mergeWord(symbols: number[], left: number, right: number, merged: number): number[] {
  let out: number[] | undefined;
  for (let i = 0; i < symbols.length; i++) {
    if (symbols[i] === left && symbols[i + 1] === right) {
      if (out === undefined) out = symbols.slice(0, i);
      out.push(merged);
      i++;
    } else if (out !== undefined) {
      out.push(symbols[i] as number);
    }
  }
  return out ?? symbols;
}

/** Note that word `w` contains pair `key` (repeats are skipped when merging). */
function addWord(index: Map<number, number[]>, key: number, w: number): void {
  const list = index.get(key);
  if (list === undefined) index.set(key, [w]);
  else if (list[list.length - 1] !== w) list.push(w);
}
