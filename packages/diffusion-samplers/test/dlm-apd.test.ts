// Adaptive parallel decoding: the accepted prefix is where the draft from
// the dLLM marginals equals the sample of the mixture R·dLLM + (1-R)·AR.
import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createApdDecoder, type DlmStepTrace } from '../src/index.js';
import { rowWithConfidence, tableAr, tableModel } from './dlm-oracle.js';
import { cpuBackend } from './setup.js';

const V = 6;
const MASK = 5;
const P = 2;
const G = 8;
const L = P + G;

beforeAll(cpuBackend);

// dLLM prefers d[p] with confidence dc[p]; the verifier (row j predicts j+1)
// prefers a[p] with confidence ac[p]; they disagree at positions 4 and 8.
const d = [0, 0, 1, 2, 3, 4, 0, 1, 2, 3];
const dc = [0.5, 0.5, 0.9, 0.8, 0.9, 0.7, 0.9, 0.6, 0.4, 0.9];
const a = [0, 0, 1, 2, 0, 4, 0, 1, 1, 3];
const ac = [0.5, 0.5, 0.9, 0.9, 0.6, 0.9, 0.9, 0.9, 0.9, 0.9];
const dTable = d.map((t, p) => rowWithConfidence(V, MASK, t, dc[p]!));
const aRows = a.map((t, p) => rowWithConfidence(V, MASK, t, ac[p]!));
// Row j of the AR logits scores position j + 1.
const arTable = Array.from({ length: L }, (_, j) => aRows[Math.min(j + 1, L - 1)]!);

/** Plain-JS reference of the acceptance rule at temperature 0. */
function expectedSteps(R: number, M: number): number[][] {
  const steps: number[][] = [];
  let cur = P;
  while (cur < L) {
    const right = Math.min(cur + M, L);
    let n = 1;
    while (cur + n < right) {
      const p = cur + n;
      const mix = dTable[p]!.map((l, v) => R * l + (1 - R) * aRows[p]![v]!);
      const target = mix.indexOf(Math.max(...mix.slice(0, MASK)));
      if (target !== d[p]) break;
      n++;
    }
    steps.push(Array.from({ length: n }, (_, i) => cur + i));
    cur += n;
  }
  return steps;
}

describe('adaptive parallel decoding (APD)', () => {
  it.each([
    [0, 8],
    [0.5, 8],
    [0.9, 8],
    [1, 8],
    [1, 3],
    [0, 3],
  ])('R = %f, lookahead %i accepts the agreeing prefix', async (R, M) => {
    const model = tableModel(V, MASK, dTable);
    const traces: DlmStepTrace[] = [];
    const dec = createApdDecoder({
      verifier: tableAr(V, arTable),
      mixtureWeight: R,
      maxLookahead: M,
    });
    const before = tf.memory().numTensors;
    const res = await dec.decode({
      model,
      prompt: [[0, 0]],
      genLength: G,
      onStep: (t) => traces.push(t),
    });
    expect(tf.memory().numTensors).toBe(before);
    const want = expectedSteps(R, M);
    expect(traces.map((t) => t.unmasked[0])).toEqual(want);
    expect(Array.from(res.tokens[0]!.subarray(P))).toEqual(d.slice(P));
    expect(res.modelCalls).toBe(want.length);
    expect(res.verifierCalls).toBe(want.length);
  });

  it('R = 0 stops at each disagreement; R = 1 takes the whole window', () => {
    expect(expectedSteps(0, 8).map((s) => s.length)).toEqual([2, 4, 2]);
    expect(expectedSteps(1, 8).map((s) => s.length)).toEqual([8]);
    expect(expectedSteps(1, 3).map((s) => s.length)).toEqual([3, 3, 2]);
  });

  it('with R = 1 the Gumbel-sampled draft is always its own target', async () => {
    const model = tableModel(V, MASK, dTable);
    const traces: DlmStepTrace[] = [];
    const res = await createApdDecoder({
      verifier: tableAr(V, arTable),
      mixtureWeight: 1,
      maxLookahead: 4,
      temperature: 5,
    }).decode({ model, prompt: [[0, 0]], genLength: G, seed: 3, onStep: (t) => traces.push(t) });
    expect(traces.map((t) => t.unmasked[0]!.length)).toEqual([4, 4]);
    // A hot temperature moves some tokens off the argmax.
    expect(Array.from(res.tokens[0]!.subarray(P))).not.toEqual(d.slice(P));
  });

  it('decodes batch rows one after another', async () => {
    const model = tableModel(V, MASK, dTable);
    const res = await createApdDecoder({ verifier: tableAr(V, arTable), mixtureWeight: 0 }).decode({
      model,
      prompt: [
        [0, 0],
        [1, 1],
      ],
      genLength: G,
    });
    expect(res.tokens.map((r) => Array.from(r.subarray(P)))).toEqual([d.slice(P), d.slice(P)]);
    expect(res.modelCalls).toBe(6);
  });
});
