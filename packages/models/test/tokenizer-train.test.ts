import { describe, expect, it } from 'vitest';
import {
  BYTE_TO_UNICODE,
  DEFAULT_SPECIAL_TOKENS,
  LLAMA3_PATTERN,
  loadBundledCorpus,
  PlexusModelsError,
  preTokenize,
  trainByteLevelBpe,
} from '../src/index.js';

/**
 * Textbook BPE training: recount every pair of every word before each merge,
 * take the most frequent (ties: smaller left id, then smaller right id), and
 * rewrite every word. Slow and obviously right; the trainer must agree.
 */
function referenceTrain(text: string, merges: number, minFrequency = 2) {
  const counts = new Map<string, number>();
  for (const piece of preTokenize(text, LLAMA3_PATTERN))
    counts.set(piece, (counts.get(piece) ?? 0) + 1);
  const encoder = new TextEncoder();
  const words = [...counts].map(([w, c]) => ({
    symbols: Array.from(encoder.encode(w)),
    count: c,
    text: w,
  }));
  const tokens = [...BYTE_TO_UNICODE];
  const learned: [string, string][] = [];
  while (learned.length < merges) {
    const pairs = new Map<string, number>();
    for (const w of words) {
      for (let i = 0; i + 1 < w.symbols.length; i++) {
        const k = `${w.symbols[i]},${w.symbols[i + 1]}`;
        pairs.set(k, (pairs.get(k) ?? 0) + w.count);
      }
    }
    let best: [number, number] | undefined;
    let bestCount = 0;
    for (const [k, c] of pairs) {
      const [a, b] = k.split(',').map(Number) as [number, number];
      if (
        best === undefined ||
        c > bestCount ||
        (c === bestCount && (a < best[0] || (a === best[0] && b < best[1])))
      ) {
        best = [a, b];
        bestCount = c;
      }
    }
    if (best === undefined || bestCount < minFrequency) break;
    const [a, b] = best;
    const merged = (tokens[a] as string) + (tokens[b] as string);
    let id = tokens.indexOf(merged);
    if (id < 0) id = tokens.push(merged) - 1;
    learned.push([tokens[a] as string, tokens[b] as string]);
    for (const w of words) {
      const out: number[] = [];
      for (let i = 0; i < w.symbols.length; i++) {
        if (w.symbols[i] === a && w.symbols[i + 1] === b) {
          out.push(id);
          i++;
        } else out.push(w.symbols[i] as number);
      }
      w.symbols = out;
    }
  }
  return { merges: learned, words, tokens };
}

describe('trainByteLevelBpe', () => {
  const corpus = loadBundledCorpus().slice(0, 40_000);

  it('learns the same merges as a recount-every-merge reference', () => {
    const reference = referenceTrain(corpus, 300);
    const tok = trainByteLevelBpe(corpus, { vocabSize: 256 + 300 + DEFAULT_SPECIAL_TOKENS.length });
    expect(tok.merges).toEqual(reference.merges);
    expect(tok.vocabSize).toBe(256 + 300 + DEFAULT_SPECIAL_TOKENS.length);
    // Encoding a training word reproduces the reference's segmentation of it.
    for (const w of reference.words.slice(0, 400)) {
      expect(tok.encode(w.text).map((id) => tok.idToToken(id))).toEqual(
        w.symbols.map((id) => reference.tokens[id]),
      );
    }
  });

  it('agrees with the reference on repeated letters, ties and min frequency', () => {
    const text = 'aaaa aaa aa a abab ba ab aaab bbbb b a a ab ab aa aa';
    for (const minFrequency of [1, 2, 3]) {
      const reference = referenceTrain(text, 50, minFrequency);
      const tok = trainByteLevelBpe(text, { vocabSize: 400, minFrequency, specialTokens: [] });
      expect(tok.merges).toEqual(reference.merges);
      expect(reference.merges.length).toBeLessThan(50);
    }
  });

  it('puts special tokens after the merges and never merges across them', () => {
    const text = 'ab<|eot_id|>ab<|eot_id|>ab<|eot_id|>';
    const tok = trainByteLevelBpe(text, { vocabSize: 300, specialTokens: ['<|eot_id|>', '<|x|>'] });
    expect(tok.merges).toEqual([['a', 'b']]);
    expect(tok.specialTokenIds).toEqual(
      new Map([
        ['<|eot_id|>', 257],
        ['<|x|>', 258],
      ]),
    );
    expect(tok.vocabSize).toBe(259);
    expect(tok.encode('ab<|eot_id|>')).toEqual([256, 257]);
    expect(tok.bosTokenId).toBeUndefined();
  });

  it('trains on a list of documents as on their separate texts', () => {
    const docs = ['the cat', 'the hat', 'that cat'];
    const tok = trainByteLevelBpe(docs, { vocabSize: 300, specialTokens: [] });
    // A newline is a piece of its own, so joining with it adds no pairs.
    expect(tok.merges).toEqual(referenceTrain(docs.join('\n'), 44).merges);
  });

  it('names Llama 3 special tokens by default', () => {
    const tok = trainByteLevelBpe('hello hello', { vocabSize: 270 });
    expect([...tok.specialTokenIds.keys()]).toEqual(DEFAULT_SPECIAL_TOKENS);
    expect(tok.bosTokenId).toBe(tok.tokenToId('<|begin_of_text|>'));
    expect(tok.eosTokenId).toBe(tok.tokenToId('<|end_of_text|>'));
  });

  it('rejects bad options with clear errors', () => {
    expect(() => trainByteLevelBpe('x', { vocabSize: 100 })).toThrow(
      /^@plexus\/models\/tokenizer: vocabSize 100 is too small/,
    );
    expect(() => trainByteLevelBpe('x', { vocabSize: 300, minFrequency: 0 })).toThrow(
      PlexusModelsError,
    );
    expect(() => trainByteLevelBpe('x', { vocabSize: 300, specialTokens: ['a', 'a'] })).toThrow(
      /distinct/,
    );
    expect(() =>
      trainByteLevelBpe('x', { vocabSize: 300, pattern: 'bert' as unknown as 'gpt2' }),
    ).toThrow(/unknown pattern "bert"/);
  });
});
