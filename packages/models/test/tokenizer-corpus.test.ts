import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { bundledCorpusPath, loadBundledCorpus } from '../src/index.js';

describe('loadBundledCorpus', () => {
  it('returns the six novels, matching the checksum in data/corpus/README.md', () => {
    const text = loadBundledCorpus();
    expect(Buffer.byteLength(text, 'utf8')).toBe(4_024_611);
    const readme = readFileSync(new URL('../data/corpus/README.md', import.meta.url), 'utf8');
    const digest = createHash('sha256')
      .update(gunzipSync(readFileSync(bundledCorpusPath())))
      .digest('hex');
    expect(readme).toContain(digest);
    expect(text.startsWith('SENSE AND SENSIBILITY')).toBe(true);
    for (const title of [
      'PRIDE AND PREJUDICE',
      'MANSFIELD PARK',
      'EMMA',
      'NORTHANGER ABBEY',
      'Persuasion',
    ]) {
      expect(text).toContain(`\n${title}\n`);
    }
    expect(text).toContain(
      'It is a truth universally acknowledged, that a single man in possession',
    );
    expect(text.toLowerCase()).not.toContain('gutenberg');
  });
});
