// Diffusion-LM decoding benchmark: a small masked-diffusion transformer
// trained briefly on the synthetic progression language (bench/dlm/), decoded
// by each decoder at several settings. Quality proxy: agreement with
// full-step decoding (one token per step, LLaDA low-confidence remasking) and
// the fraction of valid sentences. Writes bench/results/dlm.json.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@plexus/tensor';
import * as tf from '@tensorflow/tfjs-core';
import {
  createApdDecoder,
  createLowConfidenceDecoder,
  createThresholdDecoder,
  type DlmDecoderV1,
} from '../src/index.js';
import { GEN_LEN, isValid, MASK, PROMPT_LEN, SEQ_LEN, sentence, VOCAB } from './dlm/language.js';
import { asAutoregressive, asMaskedLm } from './dlm/tiny-transformer.js';
import { loadOrTrain } from './dlm/train.js';

/** One decoder configuration's measurements. */
export interface DlmRow {
  decoder: string;
  settings: Record<string, unknown>;
  /** Full-step decode this row is compared with: one token per step at this block length. */
  referenceBlockLength: number;
  tokensPerSecond: number;
  /** dLLM forward passes per generated token of one row (a batched call serves every row). */
  forwardsPerToken: number;
  /** APD verifier passes per generated token of one row. */
  verifierPerToken: number;
  positionsComputedPerToken: number;
  agreement: number;
  valid: number;
  ms: number;
}

const here = dirname(fileURLToPath(import.meta.url));
const backend = (process.env['PLEXUS_BACKEND'] ?? 'wasm') as 'wasm';
await initBackend({ backend });

const mdmConfig = {
  vocab: VOCAB,
  maxLen: SEQ_LEN,
  dModel: 64,
  heads: 4,
  layers: 2,
  ffn: 128,
  causal: false,
};
const arConfig = {
  vocab: VOCAB,
  maxLen: SEQ_LEN,
  dModel: 32,
  heads: 2,
  layers: 1,
  ffn: 64,
  causal: true,
};
// 600 steps at lr 3e-3, then 600 more at 1e-3 (resumed from the first stage's cache).
const mdmTrain = {
  steps: 600,
  batch: 64,
  lr: 1e-3,
  seed: 3,
  resume: { steps: 600, batch: 64, lr: 3e-3, seed: 1 },
};
const arTrain = { steps: 300, batch: 64, lr: 3e-3, seed: 2 };
const mdm = loadOrTrain(mdmConfig, mdmTrain);
const ar = loadOrTrain(arConfig, arTrain);
console.log(
  `mdm loss ${mdm.finalLoss.toFixed(4)} (${mdm.cached ? 'cached' : `${mdm.trainSeconds.toFixed(0)} s`}), ar loss ${ar.finalLoss.toFixed(4)}`,
);
const model = asMaskedLm(mdm.net, MASK);
const verifier = asAutoregressive(ar.net);

// Every prompt of the language ("BOS t0", t0 = 0..9), twice: a batch of 20.
const prompts = Array.from({ length: 20 }, (_, i) => sentence(i % 10, 1).slice(0, PROMPT_LEN));
const B = prompts.length;

async function run(dec: DlmDecoderV1) {
  const t0 = performance.now();
  const res = await dec.decode({ model, prompt: prompts, genLength: GEN_LEN });
  return { res, ms: performance.now() - t0 };
}

// Full-step references: one token per step, low-confidence order, per block
// length (1 = left to right, APD's order).
const references = new Map<number, Int32Array[]>();
for (const bl of [GEN_LEN, 4, 1])
  references.set(
    bl,
    (await run(createLowConfidenceDecoder({ steps: GEN_LEN, blockLength: bl }))).res.tokens,
  );

async function measure(
  name: string,
  settings: Record<string, unknown>,
  dec: DlmDecoderV1,
  referenceBlockLength = (settings['blockLength'] as number | undefined) ?? GEN_LEN,
): Promise<DlmRow> {
  const reference = references.get(referenceBlockLength)!;
  await run(dec); // warm-up
  let best = Number.POSITIVE_INFINITY;
  let last = await run(dec);
  best = last.ms;
  const again = await run(dec);
  if (again.ms < best) {
    best = again.ms;
    last = again;
  }
  const { res } = last;
  let same = 0;
  res.tokens.forEach((row, b) => {
    for (let p = PROMPT_LEN; p < SEQ_LEN; p++) if (row[p] === reference[b]![p]) same++;
  });
  const tokens = B * GEN_LEN;
  const row: DlmRow = {
    decoder: name,
    settings,
    referenceBlockLength,
    tokensPerSecond: tokens / (best / 1000),
    // APD calls the model once per row and step; the masked decoders once per step for all rows.
    forwardsPerToken: (name === 'apd' ? res.modelCalls / B : res.modelCalls) / GEN_LEN,
    verifierPerToken: res.verifierCalls / tokens,
    positionsComputedPerToken: res.positionsComputed / tokens,
    agreement: same / tokens,
    valid: res.tokens.filter((r) => isValid(r)).length / B,
    ms: best,
  };
  console.log(
    `${name.padEnd(16)} ${JSON.stringify(settings).padEnd(58)} ${row.tokensPerSecond.toFixed(0).padStart(6)} tok/s  fwd/tok ${row.forwardsPerToken.toFixed(3)}  agree ${row.agreement.toFixed(3)}  valid ${row.valid.toFixed(2)}`,
  );
  return row;
}

const rows: DlmRow[] = [];
for (const blockLength of [GEN_LEN, 4])
  for (const steps of blockLength === 4 ? [16, 8, 4] : [16, 8, 4, 2]) {
    const s = { steps, blockLength };
    rows.push(await measure('low-confidence', s, createLowConfidenceDecoder(s)));
  }
rows.push(
  await measure(
    'low-confidence',
    { steps: 16, remasking: 'random' },
    createLowConfidenceDecoder({ steps: 16, remasking: 'random' }),
  ),
);
for (const cfgScale of [0.5, 2])
  rows.push(
    await measure(
      'low-confidence',
      { steps: 16, cfgScale },
      createLowConfidenceDecoder({ steps: 16, cfgScale }),
    ),
  );
for (const blockLength of [GEN_LEN, 4])
  for (const cache of ['none', 'prefix', 'dual'] as const)
    for (const threshold of [0.5, 0.7, 0.9, 0.95, 0.99]) {
      const s = { threshold, blockLength, cache };
      rows.push(await measure('threshold', s, createThresholdDecoder(s)));
    }
for (const cache of ['prefix', 'dual', 'delayed'] as const) {
  const s = { steps: 16, blockLength: 4, cache };
  rows.push(await measure('low-confidence', s, createLowConfidenceDecoder(s)));
}
for (const refreshInterval of [undefined, 4]) {
  const s = { steps: 16, blockLength: GEN_LEN, cache: 'delayed' as const, refreshInterval };
  rows.push(await measure('low-confidence', s, createLowConfidenceDecoder(s)));
  for (const blockLength of [GEN_LEN, 4])
    for (const threshold of [0.7, 0.9]) {
      const t = { threshold, blockLength, cache: 'delayed' as const, refreshInterval };
      rows.push(await measure('threshold', t, createThresholdDecoder(t)));
    }
}
for (const maxLookahead of [GEN_LEN, 4])
  for (const mixtureWeight of [0.1, 0.5, 0.7, 0.9, 1]) {
    const s = { mixtureWeight, maxLookahead };
    rows.push(await measure('apd', s, createApdDecoder({ verifier, ...s }), 1));
  }

const meta = {
  date: new Date().toISOString(),
  node: process.version,
  backend: tf.getBackend(),
  cpus: cpus().length,
  batch: B,
  genLength: GEN_LEN,
  language: 'BOS t0..t7 SEP t7..t0, t_k = (a + k d) mod 10; prompt BOS t0',
  mdm: {
    config: mdmConfig,
    train: mdmTrain,
    finalLoss: mdm.finalLoss,
    trainSeconds: mdm.trainSeconds,
  },
  ar: { config: arConfig, train: arTrain, finalLoss: ar.finalLoss, trainSeconds: ar.trainSeconds },
  referenceValid: Object.fromEntries(
    [...references].map(([bl, toks]) => [bl, toks.filter((r) => isValid(r)).length / B]),
  ),
  timing: 'best of 2 runs after a warm-up, whole batch per decode (APD: rows one after another)',
};
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', 'dlm.json'), `${JSON.stringify({ meta, rows }, null, 2)}\n`);
mdm.net.dispose();
ar.net.dispose();
