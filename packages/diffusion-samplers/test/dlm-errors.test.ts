// Bad input fails with a clear DiffusionSamplersError before any model call.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createApdDecoder,
  createLowConfidenceDecoder,
  createThresholdDecoder,
  DiffusionSamplersError,
  type DlmDecodeArgs,
  type DlmDecoderV1,
} from '../src/index.js';
import { rowWithConfidence, tableAr, tableModel } from './dlm-oracle.js';
import { cpuBackend } from './setup.js';

const V = 6;
const MASK = 5;
const table = Array.from({ length: 16 }, () => rowWithConfidence(V, MASK, 1, 0.9));

beforeAll(cpuBackend);

function expectDlmError(fn: () => unknown, pattern: RegExp): void {
  try {
    fn();
  } catch (e) {
    expect(DiffusionSamplersError.isInstance(e)).toBe(true);
    expect((e as Error).message).toMatch(/^@plexus\/diffusion-samplers\/dlm: /);
    expect((e as Error).message).toMatch(pattern);
    return;
  }
  throw new Error('expected an error');
}

async function expectDecodeError(
  dec: DlmDecoderV1,
  args: Partial<DlmDecodeArgs>,
  pattern: RegExp,
): Promise<void> {
  const model = tableModel(V, MASK, table);
  const err = await dec
    .decode({ model, prompt: [[0, 1]], genLength: 8, ...args } as DlmDecodeArgs)
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(DiffusionSamplersError.isInstance(err)).toBe(true);
  expect((err as Error).message).toMatch(/^@plexus\/diffusion-samplers\/dlm: /);
  expect((err as Error).message).toMatch(pattern);
  expect(model.calls).toBe(0);
}

describe('settings errors', () => {
  it.each([
    [() => createThresholdDecoder({ threshold: 0 }), /threshold must be in \(0, 1\], got 0/],
    [() => createThresholdDecoder({ threshold: 1.5 }), /threshold must be in \(0, 1\], got 1.5/],
    [() => createThresholdDecoder({ threshold: Number.NaN }), /threshold/],
    [() => createLowConfidenceDecoder({ steps: 0 }), /steps must be a positive integer, got 0/],
    [() => createLowConfidenceDecoder({ steps: 2.5 }), /steps must be a positive integer/],
    [
      () => createLowConfidenceDecoder({ steps: 4, blockLength: 0 }),
      /blockLength must be a positive integer/,
    ],
    [
      () => createLowConfidenceDecoder({ steps: 4, temperature: -1 }),
      /temperature must be in \[0, Infinity\)/,
    ],
    [() => createLowConfidenceDecoder({ steps: 4, cfgScale: -0.5 }), /cfgScale/],
    [
      () => createLowConfidenceDecoder({ steps: 4, cfgScale: 1, cache: 'dual' }),
      /cfgScale > 0 needs cache 'none'/,
    ],
    [
      () => createLowConfidenceDecoder({ steps: 4, cache: 'bogus' as never }),
      /cache must be 'none', 'prefix', 'dual' or 'delayed'/,
    ],
    [
      () => createLowConfidenceDecoder({ steps: 4, refreshInterval: 2 }),
      /refreshInterval applies to cache 'delayed' only/,
    ],
    [
      () => createLowConfidenceDecoder({ steps: 4, cache: 'delayed', refreshInterval: 0 }),
      /refreshInterval must be a positive integer/,
    ],
    [
      () => createLowConfidenceDecoder({ steps: 4, remasking: 'top' as never }),
      /remasking must be 'low-confidence' or 'random'/,
    ],
    [
      () => createApdDecoder({ verifier: tableAr(V, table), mixtureWeight: 1.5 }),
      /mixtureWeight must be in \[0, 1\]/,
    ],
    [
      () => createApdDecoder({ verifier: tableAr(V, table), mixtureWeight: 0.5, maxLookahead: 0 }),
      /maxLookahead must be a positive integer/,
    ],
    [
      () => createApdDecoder({ verifier: {} as never, mixtureWeight: 0.5 }),
      /verifier must implement AutoregressiveLmV1/,
    ],
  ])('%#', (fn, pattern) => expectDlmError(fn, pattern));
});

describe('decode-time errors come before any model call', () => {
  const dec = createLowConfidenceDecoder({ steps: 4, blockLength: 4 });
  it.each([
    [dec, { genLength: 0 }, /genLength must be a positive integer, got 0/],
    [
      createLowConfidenceDecoder({ steps: 4, blockLength: 3 }),
      {},
      /blockLength 3 must divide genLength 8/,
    ],
    [
      createThresholdDecoder({ threshold: 0.5, blockLength: 5 }),
      {},
      /blockLength 5 must divide genLength 8/,
    ],
    [
      createLowConfidenceDecoder({ steps: 3, blockLength: 4 }),
      {},
      /steps 3 must be a multiple of the number of blocks \(genLength \/ blockLength = 2\)/,
    ],
    [dec, { prompt: [] }, /prompt must be a non-empty array/],
    [dec, { prompt: [[]] }, /at least one token/],
    [dec, { prompt: [[0, 1], [0]] }, /equal lengths; row 0 has 2, row 1 has 1/],
    [dec, { prompt: [[0, 9]] }, /token 9; expected integers in \[0, 6\)/],
    [dec, { prompt: [[0, MASK]] }, /mask token 5/],
    [
      createThresholdDecoder({ threshold: 0.5, cache: 'dual' }),
      {},
      /cache 'dual' needs a model with K\/V hooks/,
    ],
    [
      createApdDecoder({ verifier: tableAr(4, table), mixtureWeight: 0.5 }),
      {},
      /verifier vocabSize 4 must equal the dLLM's vocabSize 6/,
    ],
  ] as [DlmDecoderV1, Partial<DlmDecodeArgs>, RegExp][])('%#', async (d, args, pattern) => {
    await expectDecodeError(d, args, pattern);
  });

  it('rejects a model that is not a MaskedDiffusionLmV1', async () => {
    await expectDecodeError(
      dec,
      { model: { forward: () => undefined } as never },
      /model must implement MaskedDiffusionLmV1/,
    );
  });

  it('reports logits of the wrong shape', async () => {
    const model = tableModel(V, MASK, table);
    const bad = { ...model, vocabSize: 7 };
    const err = await dec
      .decode({ model: bad, prompt: [[0, 1]], genLength: 8 })
      .catch((e: unknown) => e);
    expect((err as Error).message).toMatch(
      /model returned logits of shape \[1, 10, 6\]; expected \[1, 10, 7\]/,
    );
  });
});
