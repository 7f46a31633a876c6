import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadBundledCorpus, trainByteLevelBpe } from '../src/index.js';

describe('ByteLevelBpeTokenizer encode/decode', () => {
  const tok = trainByteLevelBpe(loadBundledCorpus().slice(0, 300_000), { vocabSize: 2048 });
  const same = (text: string): void => {
    expect(tok.decode(tok.encode(text))).toBe(text);
  };

  it('is the identity on any well-formed string (fast-check)', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 80 }), same), { numRuns: 300 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), same), { numRuns: 300 });
    fc.assert(
      fc.property(
        fc.array(
          fc.constantFrom(
            'the',
            ' ',
            '\n',
            '<|eot_id|>',
            'é',
            'e\u0301',
            '😀',
            '日本',
            "'s",
            '12345',
          ),
          {
            maxLength: 20,
          },
        ),
        (parts) => same(parts.join('')),
      ),
    );
  });

  it('is the identity on the awkward cases', () => {
    for (const text of [
      '',
      ' ',
      '\n\n\n',
      'e\u0301\u0302 a\u0308', // combining marks
      '👩‍👩‍👧‍👦 👍🏽 🇫🇷', // ZWJ sequence, skin tone, flag
      '日本語のテキスト、中文文本。한국어',
      '\u0000\u0085\u00a0\ufeff\u2028',
      '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>',
      '<|eot_id', // an unfinished special token is plain text
    ]) {
      same(text);
    }
    same(loadBundledCorpus().slice(500_000, 560_000));
  });

  it('compresses English and keeps special tokens whole', () => {
    const text =
      'It is a truth universally acknowledged, that a single man in possession of a good fortune';
    expect(tok.encode(text).length).toBeLessThan(text.length / 3);
    const eot = tok.specialTokenIds.get('<|eot_id|>') as number;
    expect(tok.encode('Hi<|eot_id|>')).toContain(eot);
    expect(tok.decode(tok.encode('Hi<|eot_id|>'), { skipSpecialTokens: true })).toBe('Hi');
    expect(tok.encode('x', { addSpecialTokens: true })[0]).toBe(tok.bosTokenId);
  });

  it('rejects lone surrogates and unknown ids', () => {
    expect(() => tok.encode('a\uD800b')).toThrow(
      /^@plexus\/models\/tokenizer: text contains a lone UTF-16 surrogate/,
    );
    expect(() => tok.decode([tok.vocabSize])).toThrow(/cannot decode id 2048 at position 0/);
    expect(() => tok.decode([1.5])).toThrow(/cannot decode id 1.5/);
  });
});
