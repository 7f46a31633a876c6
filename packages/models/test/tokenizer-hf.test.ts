import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  byteLevelBpeFromTokenizerJson,
  loadBundledCorpus,
  loadByteLevelBpeFromDir,
  loadHfTokenizer,
  loadHfTokenizerFromDir,
  type PreTokenizerPattern,
  saveByteLevelBpe,
  type TokenizerJson,
  toTokenizerConfigJson,
  toTokenizerJson,
  trainByteLevelBpe,
} from '../src/index.js';

const corpus = loadBundledCorpus();
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Strings where tokenizers tend to disagree: contractions, digits, spaces, newlines, scripts. */
const awkward = [
  '',
  "I'm sure you'LL see; they've DON'T we'd",
  '1234567 89 0.5 £20,000 ½ ٣٤٥',
  'a  b   c\t\td \n\n\n e \r\n f\u0085g\u00a0h\ufeffi',
  'e\u0301 👩‍👩‍👧‍👦 🇫🇷 日本語の文 ſtraße',
  '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi!<|eot_id|>',
  '   leading and trailing   ',
];

describe.each<PreTokenizerPattern['name']>(['llama3', 'gpt2'])(
  'our tokenizer.json read by @huggingface/tokenizers (%s pattern)',
  (pattern) => {
    const ours = trainByteLevelBpe(corpus.slice(0, 400_000), { vocabSize: 3000, pattern });
    // Through JSON text, as a file on disk would be.
    const hf = loadHfTokenizer(
      JSON.parse(JSON.stringify(toTokenizerJson(ours))),
      toTokenizerConfigJson(ours),
    );
    const lines = corpus
      .slice(1_000_000, 1_200_000)
      .split('\n')
      .filter((_, i) => i % 7 === 0);

    it('encodes exactly like ours, on corpus lines and awkward strings', () => {
      expect(hf.encode(lines.join('\n'))).toEqual(ours.encode(lines.join('\n')));
      for (const text of [...awkward, ...lines.slice(0, 200)]) {
        expect(hf.encode(text)).toEqual(ours.encode(text));
        expect(hf.encode(text, { addSpecialTokens: true })).toEqual(
          ours.encode(text, { addSpecialTokens: true }),
        );
      }
    });

    it('encodes exactly like ours on random strings (fast-check)', () => {
      const words = fc.constantFrom(
        'the',
        ' the',
        "'s",
        "'S",
        ' ',
        '  ',
        '\n',
        '\r\n',
        '12345',
        'é',
        '日本',
        '😀',
        '<|eot_id|>',
        '!?',
      );
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ unit: 'binary', maxLength: 40 }),
            fc.array(words, { maxLength: 16 }).map((a) => a.join('')),
          ),
          (text) => {
            expect(hf.encode(text)).toEqual(ours.encode(text));
          },
        ),
        { numRuns: 300 },
      );
    });

    it('decodes, looks up tokens and reports special tokens like ours', () => {
      const ids = ours.encode(lines.slice(0, 50).join('\n') + awkward.join(' '));
      expect(hf.decode(ids)).toBe(ours.decode(ids));
      expect(hf.decode(ids, { skipSpecialTokens: true })).toBe(
        ours.decode(ids, { skipSpecialTokens: true }),
      );
      // Cutting inside a multi-byte character: both decode the stray bytes to U+FFFD.
      const emoji = ours.encode('a😀b日');
      for (let end = 1; end <= emoji.length; end++) {
        expect(hf.decode(emoji.slice(0, end))).toBe(ours.decode(emoji.slice(0, end)));
      }
      expect(hf.vocabSize).toBe(ours.vocabSize);
      expect(hf.specialTokenIds).toEqual(ours.specialTokenIds);
      expect(hf.bosTokenId).toBe(ours.bosTokenId);
      expect(hf.eosTokenId).toBe(ours.eosTokenId);
      for (const id of [0, 32, 255, 256, 1000, ours.vocabSize - 1]) {
        const token = ours.idToToken(id) as string;
        expect(hf.idToToken(id)).toBe(token);
        expect(hf.tokenToId(token)).toBe(id);
        expect(ours.tokenToId(token)).toBe(id);
      }
    });
  },
);

describe('tokenizer.json files', () => {
  const ours = trainByteLevelBpe(corpus.slice(0, 100_000), { vocabSize: 1000 });

  it('save and load back to the same tokenizer, and the directory loads as a Hugging Face one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'plexus-tokenizer-'));
    dirs.push(dir);
    saveByteLevelBpe(ours, dir);
    const back = loadByteLevelBpeFromDir(dir);
    const hf = loadHfTokenizerFromDir(dir);
    const text = corpus.slice(200_000, 220_000) + awkward.join('\n');
    expect(back.encode(text)).toEqual(ours.encode(text));
    expect(hf.encode(text)).toEqual(ours.encode(text));
    expect(back.merges).toEqual(ours.merges);
    expect(back.bosToken).toBe('<|begin_of_text|>');
    expect(back.chatTemplate).toBe(ours.chatTemplate);
    const json = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8'));
    expect(json.model.type).toBe('BPE');
    expect(json.decoder.type).toBe('ByteLevel');
    expect(json.pre_tokenizer.pretokenizers.map((p: { type: string }) => p.type)).toEqual([
      'Split',
      'ByteLevel',
    ]);
    expect(json.added_tokens.map((t: { content: string }) => t.content)).toContain('<|eot_id|>');
  });

  it('reads merges written as "a b" strings too (older tokenizer.json files)', () => {
    const json = toTokenizerJson(ours);
    const old: TokenizerJson = {
      ...json,
      model: {
        ...json.model,
        merges: json.model.merges.map((m) => (m as readonly string[]).join(' ')),
      },
    };
    const text = corpus.slice(300_000, 310_000);
    expect(byteLevelBpeFromTokenizerJson(old).encode(text)).toEqual(ours.encode(text));
    expect(loadHfTokenizer(old).encode(text)).toEqual(ours.encode(text));
  });

  it('rejects files it cannot read with errors that say why', () => {
    const json = toTokenizerJson(ours);
    expect(() =>
      byteLevelBpeFromTokenizerJson({ ...json, model: { ...json.model, type: 'WordPiece' } }),
    ).toThrow(
      /^@plexus\/models\/tokenizer: tokenizer.json is not a byte-level BPE this package reads: model type is "WordPiece"/,
    );
    const badSplit = {
      type: 'Sequence',
      pretokenizers: [
        { type: 'Split', pattern: { Regex: '\\w+' }, behavior: 'Isolated', invert: false },
        { type: 'ByteLevel', use_regex: false },
      ],
    };
    expect(() => byteLevelBpeFromTokenizerJson({ ...json, pre_tokenizer: badSplit })).toThrow(
      /unknown pre-tokenizer regex/,
    );
    const vocab = { ...json.model.vocab };
    delete vocab.Ġ;
    expect(() =>
      byteLevelBpeFromTokenizerJson({ ...json, model: { ...json.model, vocab } }),
    ).toThrow(/lacks the byte token "Ġ"/);
    expect(() => loadHfTokenizer({ nope: 1 })).toThrow(/expected a parsed tokenizer.json object/);
    expect(() => loadHfTokenizerFromDir(join(tmpdir(), 'no-such-plexus-dir'))).toThrow(
      /does not exist/,
    );
  });
});
