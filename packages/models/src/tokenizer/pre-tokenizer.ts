import { PlexusModelsError } from '../errors.js';

/**
 * A pre-tokenisation pattern: BPE merges never cross the pieces it cuts.
 * `source` is the pattern as Hugging Face `tokenizer.json` stores it
 * (Oniguruma syntax); `regex` is the equivalent JavaScript expression.
 */
export interface PreTokenizerPattern {
  readonly name: 'gpt2' | 'llama3';
  readonly source: string;
  readonly regex: RegExp;
}

// Oniguruma's \s is Unicode White_Space (it has U+0085 and lacks U+FEFF,
// unlike JavaScript's \s), so the JavaScript forms spell it out.
const S = '\\p{White_Space}';
const NOT_S = '\\P{White_Space}';

/** GPT-2's pattern (Radford et al. 2019), as in its `tokenizer.json`. */
export const GPT2_PATTERN: PreTokenizerPattern = {
  name: 'gpt2',
  source: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+",
  regex: new RegExp(
    `'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^${S}\\p{L}\\p{N}]+|[${S}]+(?!${NOT_S})|[${S}]+`,
    'gu',
  ),
};

/**
 * Llama 3's pattern ("The Llama 3 Herd of Models", 2024): case-insensitive
 * contractions, digits in groups of at most three, newlines kept apart.
 */
export const LLAMA3_PATTERN: PreTokenizerPattern = {
  name: 'llama3',
  source:
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  regex: new RegExp(
    // Node 20 has no inline (?i:...) groups, so the letters carry both cases.
    `'(?:[sS]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^${S}\\p{L}\\p{N}]+[\\r\\n]*|[${S}]*[\\r\\n]+|[${S}]+(?!${NOT_S})|[${S}]+`,
    'gu',
  ),
};

/** The patterns this package can train with and load, by name. */
export const PRE_TOKENIZER_PATTERNS: Readonly<
  Record<PreTokenizerPattern['name'], PreTokenizerPattern>
> = {
  gpt2: GPT2_PATTERN,
  llama3: LLAMA3_PATTERN,
};

/** The known pattern whose `tokenizer.json` source is `source`. */
export function patternFromSource(source: string): PreTokenizerPattern {
  for (const pattern of Object.values(PRE_TOKENIZER_PATTERNS)) {
    if (pattern.source === source) return pattern;
  }
  throw new PlexusModelsError(
    'tokenizer',
    `unknown pre-tokenizer regex ${JSON.stringify(source)}: the byte-level BPE knows GPT-2's and Llama 3's patterns; load other tokenizer.json files with loadHfTokenizer`,
  );
}

/**
 * Cut `text` into pre-tokens. Like Hugging Face's `Split` with behaviour
 * `Isolated`, text between matches is kept as pieces too, so the pieces
 * always concatenate back to `text`.
 */
export function preTokenize(text: string, pattern: PreTokenizerPattern): string[] {
  const pieces: string[] = [];
  let last = 0;
  for (const match of text.matchAll(pattern.regex)) {
    const start = match.index;
    if (start > last) pieces.push(text.slice(last, start));
    if (match[0].length > 0) pieces.push(match[0]);
    last = start + match[0].length;
  }
  if (last < text.length) pieces.push(text.slice(last));
  return pieces;
}
