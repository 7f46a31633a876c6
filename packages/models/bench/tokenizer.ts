// Tokenizer benchmark: byte-level BPE training time on the bundled corpus,
// and encode throughput of our BPE and of @huggingface/tokenizers reading the
// same tokenizer.json. Run: node --import tsx bench/tokenizer.ts
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  loadBundledCorpus,
  loadHfTokenizer,
  toTokenizerConfigJson,
  toTokenizerJson,
  trainByteLevelBpe,
} from '../src/index.js';

/** One vocabulary size's measurements. */
export interface TokenizerBenchRow {
  readonly vocabSize: number;
  readonly merges: number;
  /** Median wall time of `trainByteLevelBpe` over the whole corpus. */
  readonly trainSeconds: number;
  readonly trainRuns: number;
  /** Corpus UTF-8 bytes per token. */
  readonly bytesPerToken: number;
  /** Encode throughput of the whole corpus, MB/s (1e6 bytes). */
  readonly oursEncodeMBps: number;
  readonly hfEncodeMBps: number;
  /** Both produced the same ids for the whole corpus. */
  readonly hfIdentical: boolean;
}

/** Everything the benchmark measured, as written to bench/results/tokenizer.json. */
export interface TokenizerBenchResult {
  readonly corpusBytes: number;
  readonly corpusLoadMs: number;
  readonly cpu: string;
  readonly node: string;
  /** 1-minute load average when the run ended: the machine is shared, so timings are noisy. */
  readonly loadAverage: number;
  readonly rows: TokenizerBenchRow[];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

/** Train, encode and cross-check at each vocabulary size. */
export function runTokenizerBench(
  vocabSizes: readonly number[] = [4096, 8192],
  runs = 3,
): TokenizerBenchResult {
  let t = performance.now();
  const corpus = loadBundledCorpus();
  const corpusLoadMs = performance.now() - t;
  const corpusBytes = Buffer.byteLength(corpus, 'utf8');
  const rows: TokenizerBenchRow[] = [];
  for (const vocabSize of vocabSizes) {
    const times: number[] = [];
    let tok = trainByteLevelBpe(corpus, { vocabSize });
    for (let r = 0; r < runs; r++) {
      t = performance.now();
      tok = trainByteLevelBpe(corpus, { vocabSize });
      times.push((performance.now() - t) / 1000);
    }
    t = performance.now();
    const ids = tok.encode(corpus);
    const oursSeconds = (performance.now() - t) / 1000;
    const hf = loadHfTokenizer(
      JSON.parse(JSON.stringify(toTokenizerJson(tok))),
      toTokenizerConfigJson(tok),
    );
    t = performance.now();
    const hfIds = hf.encode(corpus);
    const hfSeconds = (performance.now() - t) / 1000;
    const row: TokenizerBenchRow = {
      vocabSize,
      merges: tok.merges.length,
      trainSeconds: median(times),
      trainRuns: runs,
      bytesPerToken: corpusBytes / ids.length,
      oursEncodeMBps: corpusBytes / 1e6 / oursSeconds,
      hfEncodeMBps: corpusBytes / 1e6 / hfSeconds,
      hfIdentical: ids.length === hfIds.length && ids.every((id, i) => id === hfIds[i]),
    };
    console.log(JSON.stringify(row));
    rows.push(row);
  }
  return {
    corpusBytes,
    corpusLoadMs,
    cpu: `${cpus()[0]?.model ?? 'unknown'} x${cpus().length}`,
    node: process.version,
    loadAverage: loadavg()[0] as number,
    rows,
  };
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  const result = runTokenizerBench();
  const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'tokenizer.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
}
