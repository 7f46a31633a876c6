import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { PlexusModelsError } from '../errors.js';

const CORPUS_FILE = join('data', 'corpus', 'austen.txt.gz');
const CORPUS_SHA256 = '158ef4e434f2d63a0b97ea61fc5b897c5e48f1691ff7cea6a38fa145c04f06b8';

declare const __dirname: string | undefined;

function moduleDir(): string {
  // The CJS build has __dirname; the ESM build and the sources under vitest have import.meta.url.
  if (typeof __dirname === 'string') return __dirname;
  return dirname(fileURLToPath(import.meta.url));
}

/**
 * Path of the bundled corpus file. The module lives in `dist/` when built or
 * installed and in `src/tokenizer/` in the repository, so walk up to `data/`.
 */
export function bundledCorpusPath(): string {
  const start = moduleDir();
  let dir = start;
  for (let up = 0; up < 4; up++) {
    const candidate = join(dir, CORPUS_FILE);
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  throw new PlexusModelsError(
    'corpus',
    `bundled corpus ${CORPUS_FILE} not found above ${start}; the package's "data" folder is missing`,
  );
}

/**
 * The public-domain English corpus shipped with the package: Jane Austen's
 * six novels (4.0 MB of UTF-8 text from Project Gutenberg, via Debian's
 * r-cran-janeaustenr), checked against its SHA-256, so training needs no
 * download. See `data/corpus/README.md` for its provenance.
 */
export function loadBundledCorpus(): string {
  const bytes = gunzipSync(readFileSync(bundledCorpusPath()));
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== CORPUS_SHA256) {
    throw new PlexusModelsError(
      'corpus',
      `bundled corpus is corrupt: SHA-256 ${digest}, expected ${CORPUS_SHA256}`,
    );
  }
  return bytes.toString('utf8');
}
