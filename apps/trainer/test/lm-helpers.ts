import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadBundledCorpus } from '@plexus/models';
import { type LmStepMetric, readMetrics } from '../src/lm/metrics.js';

/** The app's root (where `src/cli.ts` and the tsx loader resolve). */
export const APP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
/** A 2-layer, 32-wide Llama config: each step takes milliseconds. */
export const MICRO = join(APP_DIR, 'test', 'fixtures', 'lm-micro.json');
/** The same with 4 top-2 experts (Mixtral). */
export const MICRO_MOE = join(APP_DIR, 'test', 'fixtures', 'lm-micro-moe.json');

let corpus: string | undefined;

/** A fresh temp dir holding the first 30 000 characters of the bundled corpus as `corpus.txt`. */
export function tempRun(): { dir: string; data: string } {
  const dir = mkdtempSync(join(tmpdir(), 'plexus-lm-'));
  corpus ??= loadBundledCorpus().slice(0, 30_000);
  const data = join(dir, 'corpus.txt');
  writeFileSync(data, corpus);
  return { dir, data };
}

/** Common fast options: micro model, wasm, batch 2 of 16 tokens. */
export function microArgs(data: string, out: string, extra: string[] = []): string[] {
  return [
    '--data',
    data,
    '--config',
    MICRO,
    '--backend',
    'wasm',
    '--batch',
    '2',
    '--seq',
    '16',
    '--lr',
    '1e-2',
    '--warmup',
    '2',
    '--out',
    out,
    ...extra,
  ];
}

/** The metrics of a run directory. */
export function metricsOf(out: string): LmStepMetric[] {
  return readMetrics(join(out, 'metrics.jsonl'));
}
