import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BYTE_TO_UNICODE,
  byteLevelToBytes,
  bytesToByteLevel,
  GPT2_PATTERN,
  LLAMA3_PATTERN,
  preTokenize,
} from '../src/index.js';

describe('GPT-2 byte-to-unicode table', () => {
  it('maps 256 bytes to 256 distinct visible characters', () => {
    expect(BYTE_TO_UNICODE).toHaveLength(256);
    expect(new Set(BYTE_TO_UNICODE).size).toBe(256);
    // Values from GPT-2's encoder.py: printable ASCII stays, space is Ġ, newline Ċ, soft hyphen 0xAD is Ń.
    expect(BYTE_TO_UNICODE[0x41]).toBe('A');
    expect(BYTE_TO_UNICODE[0x20]).toBe('Ġ');
    expect(BYTE_TO_UNICODE[0x0a]).toBe('Ċ');
    expect(BYTE_TO_UNICODE[0x00]).toBe('Ā');
    expect(BYTE_TO_UNICODE[0xad]).toBe('Ń');
    expect(BYTE_TO_UNICODE[0xe9]).toBe('é');
    for (const ch of BYTE_TO_UNICODE) expect(/\s/u.test(ch)).toBe(false);
  });

  it('is reversible on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(byteLevelToBytes(bytesToByteLevel(bytes))).toEqual(Array.from(bytes));
      }),
    );
    expect(byteLevelToBytes('a b')).toBeUndefined();
  });
});

describe('pre-tokenisation patterns', () => {
  it('cuts like GPT-2 and Llama 3 on hand-checked examples', () => {
    const text = "Hello world's 12345 DON'T  go!!\n\n  x";
    expect(preTokenize(text, GPT2_PATTERN)).toEqual([
      'Hello',
      ' world',
      "'s",
      ' 12345',
      ' DON',
      "'",
      'T',
      ' ',
      ' go',
      '!!',
      '\n\n ',
      ' x',
    ]);
    expect(preTokenize(text, LLAMA3_PATTERN)).toEqual([
      'Hello',
      ' world',
      "'s",
      ' ',
      '123',
      '45',
      ' DON',
      "'T",
      ' ',
      ' go',
      '!!\n\n',
      ' ',
      ' x',
    ]);
  });

  it('uses Unicode White_Space like Oniguruma, not JavaScript \\s', () => {
    // U+0085 is White_Space (Oniguruma \s); U+FEFF is not, though JavaScript's \s has it.
    expect(preTokenize('a\u0085b', GPT2_PATTERN)).toEqual(['a', '\u0085', 'b']);
    expect(preTokenize('a\uFEFFb', GPT2_PATTERN)).toEqual(['a', '\uFEFF', 'b']);
  });

  it('pieces always concatenate back to the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), (text) => {
        expect(preTokenize(text, GPT2_PATTERN).join('')).toBe(text);
        expect(preTokenize(text, LLAMA3_PATTERN).join('')).toBe(text);
      }),
    );
  });
});
