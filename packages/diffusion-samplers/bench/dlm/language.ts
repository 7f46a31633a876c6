// The synthetic language of the diffusion-LM benchmark: an arithmetic
// progression mod 10 and its reversal, "BOS t0 .. t7 SEP t7 .. t0". The
// prompt is "BOS t0", so the step d (1..9) is open: a decoder must commit to
// one d and keep every later token consistent with it. Decoding many tokens
// in parallel from independent marginals can mix two steps; validity is
// checkable exactly.
import type { PortableRng } from '../../src/index.js';

/** Digits 0..9, then the special tokens. */
export const BOS = 10;
export const SEP = 11;
export const MASK = 12;
export const VOCAB = 13;
/** Terms of the progression. */
export const TERMS = 8;
/** Sequence length: BOS + terms + SEP + reversed terms. */
export const SEQ_LEN = 2 * TERMS + 2;
/** Prompt length ("BOS t0"). */
export const PROMPT_LEN = 2;
/** Tokens to generate. */
export const GEN_LEN = SEQ_LEN - PROMPT_LEN;

/** The sentence for start `a` (0..9) and step `d` (1..9). */
export function sentence(a: number, d: number): number[] {
  const terms = Array.from({ length: TERMS }, (_, k) => (a + k * d) % 10);
  return [BOS, ...terms, SEP, ...[...terms].reverse()];
}

/** A seeded random sentence. */
export function randomSentence(rng: PortableRng): number[] {
  return sentence(Math.floor(rng.uniform() * 10), 1 + Math.floor(rng.uniform() * 9));
}

/** Whether `tokens` is a sentence of the language. */
export function isValid(tokens: ArrayLike<number>): boolean {
  const t = Array.from(tokens);
  if (t.length !== SEQ_LEN) return false;
  const d = (((t[2]! - t[1]!) % 10) + 10) % 10;
  if (d === 0) return false;
  const want = sentence(t[1]!, d);
  return want.every((v, i) => v === t[i]);
}
